"""Synthetic generator of Russian cash-register receipt item names (96 product categories).

The "world" (categories, head nouns, brands, abbreviations) is fixed: it is built from a constant
seed, so label ``k`` means the same category for every dataset seed.  The dataset seed only drives
the sampling of names.  Everything is vectorised with numpy (object arrays of strings), so millions
of names take seconds.

Why pretraining matters on this data: every category has *hidden* vocabulary - some brands, some
head nouns and the consonant-skeleton abbreviations of head nouns ("МЛК" for "МОЛОКО").  Hidden
vocabulary never occurs in labelled train names, does occur in val/test names, and occurs in the
unlabelled names together with the known words of the same category.  A model can only learn what
"ЛАМБЕРО" or "ТВРЖК" means from the unlabelled part.

Public API: ``World`` / ``get_world()``, ``World.generate(cats, mode, rng)`` -> object array of names,
``CATEGORY_NAMES`` (label -> Russian category name), ``N_CLASSES``.
"""
from __future__ import annotations

import functools

import numpy as np

WORLD_SEED = 2021

# name | family | head nouns (;) | own descriptors (;), @FLAV = fruit flavours | qty profiles | pct
_SPEC = """
молоко и сливки|dairy|МОЛОКО;СЛИВКИ;МОЛОКО ТОПЛЕНОЕ;КОКТЕЙЛЬ МОЛОЧНЫЙ;МОЛОКО ПИТЬЕВОЕ;МОЛОКО ОВСЯНОЕ|ПАСТ.;УЛЬТРАПАСТ.;ОТБОРНОЕ;ЦЕЛЬНОЕ;ДЛЯ КОФЕ;ПИТЬЕВЫЕ|ml|fat_milk
кисломолочные продукты|dairy|КЕФИР;РЯЖЕНКА;ПРОСТОКВАША;АЙРАН;БИФИДОК;ВАРЕНЕЦ;ТАН|БИО;ЖИВОЙ;НАТУРАЛЬНЫЙ;ТЕРМОСТАТНЫЙ|ml|fat_milk
йогурты|dairy|ЙОГУРТ;БИОЙОГУРТ;ЙОГУРТ ПИТЬЕВОЙ;ПРОДУКТ ЙОГУРТНЫЙ;ЙОГУРТ ГРЕЧЕСКИЙ|@FLAV;ЗЛАКИ;ГУСТОЙ;НАТУР.|g ml|fat_milk
творог и сырки|dairy|ТВОРОГ;ТВОРОЖОК;МАССА ТВОРОЖНАЯ;СЫРОК ГЛАЗИРОВАННЫЙ;ДЕСЕРТ ТВОРОЖНЫЙ;ЗЕРНЕНЫЙ ТВОРОГ|ВАНИЛЬ;ИЗЮМ;РАССЫПЧАТЫЙ;МЯГКИЙ;@FLAV|g|fat_sour
сметана|dairy|СМЕТАНА;СМЕТАНКА;ПРОДУКТ СМЕТАННЫЙ;СМЕТАНА ДЕРЕВЕНСКАЯ|ГОСТ;ДЕРЕВЕНСКАЯ;ГУСТАЯ|g|fat_sour
масло сливочное и спреды|dairy|МАСЛО СЛИВОЧНОЕ;МАСЛО КРЕСТЬЯНСКОЕ;СПРЕД;МАСЛО ТОПЛЕНОЕ;МАСЛО ТРАДИЦИОННОЕ|НЕСОЛЕНОЕ;ГОСТ;ФОЛЬГА|g|fat_butter
сыры твердые|dairy|СЫР;СЫР ТВЕРДЫЙ;СЫР ПОЛУТВЕРДЫЙ;ПАРМЕЗАН;ГАУДА;МААСДАМ;СЫР РОССИЙСКИЙ;ЧЕДДЕР|НАРЕЗКА;ЛОМТИКИ;КУСОК;ВЫДЕРЖАННЫЙ|g kg|fat_cheese
сыры мягкие и плавленые|dairy|СЫР ПЛАВЛЕНЫЙ;МОЦАРЕЛЛА;БРЫНЗА;СЫР ТВОРОЖНЫЙ;ФЕТА;СУЛУГУНИ;РИКОТТА;МАСКАРПОНЕ|СЛИВОЧНЫЙ;С ЗЕЛЕНЬЮ;ВАННОЧКА;РАССОЛЬНЫЙ|g|fat_cheese
яйца|dairy|ЯЙЦО КУРИНОЕ;ЯЙЦА ПЕРЕПЕЛИНЫЕ;ЯЙЦО СТОЛОВОЕ;ЯЙЦО ДИЕТИЧЕСКОЕ;ЯЙЦО|С0;С1;С2;СВ;ОТБОРНОЕ;КОРИЧНЕВОЕ|eggs|
хлеб|bakery|ХЛЕБ;БАТОН;БУХАНКА;БАГЕТ;ЛАВАШ;ЛЕПЕШКА;ЧИАБАТТА;ХЛЕБЦЫ|НАРЕЗНОЙ;РЖАНОЙ;ПШЕНИЧНЫЙ;БОРОДИНСКИЙ;ЦЕЛЬНОЗЕРНОВОЙ;ЗЕРНОВОЙ|g|
выпечка и сдоба|bakery|БУЛОЧКА;КРУАССАН;ПИРОЖОК;ПИРОГ;ВАТРУШКА;ПЛЮШКА;СЛОЙКА;ПОНЧИК|С ВИШНЕЙ;С КАПУСТОЙ;С ПОВИДЛОМ;С МАКОМ;СДОБНАЯ;@FLAV|g pcs|
торты и пирожные|bakery|ТОРТ;ПИРОЖНОЕ;РУЛЕТ БИСКВИТНЫЙ;ЭКЛЕР;ЧИЗКЕЙК;МАФФИН;КЕКС;ТРУБОЧКА|МЕДОВИК;НАПОЛЕОН;ПРАГА;БИСКВИТНЫЙ;ШОКОЛАДНЫЙ;@FLAV|g kg|
печенье и пряники|bakery|ПЕЧЕНЬЕ;ПРЯНИКИ;КРЕКЕР;ГАЛЕТЫ;ВАФЛИ;СУШКИ;БАРАНКИ;СОЛОМКА СЛАДКАЯ|ЮБИЛЕЙНОЕ;ОВСЯНОЕ;СДОБНОЕ;ЗАТЯЖНОЕ;С ШОКОЛАДОМ;ТОПЛЕНОЕ МОЛОКО|g|
овощи|produce|КАРТОФЕЛЬ;МОРКОВЬ;ЛУК РЕПЧАТЫЙ;КАПУСТА;ОГУРЦЫ;ТОМАТЫ;ПЕРЕЦ СЛАДКИЙ;СВЕКЛА;КАБАЧКИ;БАКЛАЖАНЫ|МОЛОДОЙ;ГРУНТОВЫЕ;ТЕПЛИЧНЫЕ;МЫТАЯ;КОРОТКОПЛОДНЫЕ;ЧЕРРИ|kg|
фрукты|produce|ЯБЛОКИ;БАНАНЫ;АПЕЛЬСИНЫ;МАНДАРИНЫ;ГРУШИ;ЛИМОНЫ;ВИНОГРАД;КИВИ;ХУРМА;ГРАНАТ|ГАЛА;ГОЛДЕН;ФУДЖИ;КИШМИШ;ИМПОРТ;СЕЗОННЫЕ|kg|
зелень и салаты|produce|ПЕТРУШКА;УКРОП;САЛАТ ЛИСТОВОЙ;РУККОЛА;КИНЗА;ЛУК ЗЕЛЕНЫЙ;ШПИНАТ;БАЗИЛИК;САЛАТ АЙСБЕРГ|ПУЧОК;ГОРШОК;СВЕЖИЙ;МИКС|g pcs|
ягоды|produce|КЛУБНИКА;МАЛИНА;ГОЛУБИКА;ЧЕРНИКА;СМОРОДИНА;ВИШНЯ;ЧЕРЕШНЯ;КЛЮКВА;БРУСНИКА|СВЕЖАЯ;САДОВАЯ;ЛЕСНАЯ;КОНТЕЙНЕР|g kg|
грибы|produce|ШАМПИНЬОНЫ;ВЕШЕНКИ;ГРИБЫ ЛЕСНЫЕ;ОПЯТА;ЛИСИЧКИ;ГРИБЫ БЕЛЫЕ;ШИИТАКЕ|КОРОЛЕВСКИЕ;СВЕЖИЕ;РЕЗАНЫЕ;ОТБОРНЫЕ|g kg|
орехи и сухофрукты|produce|МИНДАЛЬ;ФУНДУК;КЕШЬЮ;ГРЕЦКИЙ ОРЕХ;ИЗЮМ;КУРАГА;ЧЕРНОСЛИВ;ФИНИКИ;СМЕСЬ ОРЕХОВ|ОЧИЩЕННЫЙ;ЖАРЕНЫЙ;СУШЕНЫЙ;БЕЗ КОСТОЧКИ;ОТБОРНЫЙ|g|
мясо|meat|СВИНИНА;ГОВЯДИНА;БАРАНИНА;ФАРШ;ШЕЙКА СВИНАЯ;КАРБОНАД;РЕБРА;ВЫРЕЗКА;ЛОПАТКА|ОХЛ.;ЗАМ.;Б/К;НА КОСТИ;ДОМАШНИЙ;МРАМОРНАЯ|kg g|
птица|meat|КУРИЦА;ЦЫПЛЕНОК-БРОЙЛЕР;ФИЛЕ КУРИНОЕ;ГОЛЕНЬ;БЕДРО КУРИНОЕ;ИНДЕЙКА;КРЫЛЬЯ;ТУШКА;ФАРШ КУРИНЫЙ|ОХЛ.;ЗАМ.;ГРУДКА;ПОДЛОЖКА;Б/К;ЛОТОК|kg g|
колбасы|meat|КОЛБАСА;КОЛБАСА ВАРЕНАЯ;СЕРВЕЛАТ;САЛЯМИ;КОЛБАСА С/К;КОЛБАСА В/К;ДОКТОРСКАЯ;МОРТАДЕЛЛА|НАРЕЗКА;ГОСТ;ФИНСКИЙ;МОСКОВСКАЯ;МИЛАНО;ВЕС.|g kg|
сосиски и сардельки|meat|СОСИСКИ;САРДЕЛЬКИ;ШПИКАЧКИ;КОЛБАСКИ;СОСИСКИ МОЛОЧНЫЕ;КОЛБАСКИ ГРИЛЬ|МОЛОЧНЫЕ;СЛИВОЧНЫЕ;С СЫРОМ;ГОВЯЖЬИ;ВЕС.;Н/О|g kg|
мясные деликатесы|meat|ВЕТЧИНА;БЕКОН;БУЖЕНИНА;ГРУДИНКА;ШЕЙКА С/К;ХАМОН;РУЛЕТ МЯСНОЙ;КАРБОНАД К/В|НАРЕЗКА;ЗАПЕЧЕННАЯ;КОПЧЕНЫЙ;СЫРОВЯЛЕНЫЙ|g kg|
полуфабрикаты|meat|ПЕЛЬМЕНИ;ВАРЕНИКИ;КОТЛЕТЫ;НАГГЕТСЫ;ХИНКАЛИ;МАНТЫ;ЧЕБУРЕКИ;ФРИКАДЕЛЬКИ|ДОМАШНИЕ;ЗАМ.;С КАРТОФЕЛЕМ;ГОВЯЖЬИ;ИЗ ИНДЕЙКИ;СИБИРСКИЕ|g kg|
рыба свежая и охлажденная|fish|ФОРЕЛЬ;СЕМГА;ЛОСОСЬ;МИНТАЙ;ХЕК;ДОРАДО;СИБАС;ТРЕСКА;ТИЛАПИЯ|ОХЛ.;ЗАМ.;ФИЛЕ;СТЕЙК;ТУШКА;Б/Г;ПОТРОШЕНАЯ|kg g|
рыба соленая и копченая|fish|СЕЛЬДЬ;СКУМБРИЯ Х/К;ГОРБУША С/С;ФОРЕЛЬ С/С;КИЛЬКА;ВОБЛА;ИВАСИ;ЛОСОСЬ ЛОМТИКИ|СЛАБОСОЛЕНАЯ;ПРЯНОГО ПОСОЛА;В МАСЛЕ;ФИЛЕ-КУСОЧКИ;ХОЛ.КОПЧ.|g kg|
морепродукты|fish|КРЕВЕТКИ;КАЛЬМАРЫ;МИДИИ;КРАБОВЫЕ ПАЛОЧКИ;ИКРА ЛОСОСЕВАЯ;КОКТЕЙЛЬ МОРСКОЙ;ОСЬМИНОГ;КРАБОВОЕ МЯСО|ВАРЕНО-МОРОЖЕНЫЕ;ОЧИЩЕННЫЕ;КОРОЛЕВСКИЕ;ТИГРОВЫЕ;ЗАМ.|g|
консервы рыбные|fish|САЙРА;ШПРОТЫ;ТУНЕЦ;ГОРБУША НАТУРАЛЬНАЯ;ПЕЧЕНЬ ТРЕСКИ;БЫЧКИ В ТОМАТЕ;СКУМБРИЯ В МАСЛЕ|Ж/Б;КЛЮЧ;НАТУРАЛЬНАЯ;В МАСЛЕ;В ТОМ.СОУСЕ|g|
консервы мясные|grocery|ТУШЕНКА;ГОВЯДИНА ТУШЕНАЯ;СВИНИНА ТУШЕНАЯ;ПАШТЕТ;ЗАВТРАК ТУРИСТА;КОНСЕРВЫ МЯСНЫЕ;ЯЗЫК В ЖЕЛЕ|ГОСТ;Ж/Б;ВЫСШИЙ СОРТ;ПЕЧЕНОЧНЫЙ|g|
консервы овощные|grocery|ГОРОШЕК ЗЕЛЕНЫЙ;КУКУРУЗА САХАРНАЯ;ФАСОЛЬ КОНСЕРВИРОВАННАЯ;ОГУРЦЫ МАРИНОВАННЫЕ;ТОМАТЫ МАРИНОВАННЫЕ;ИКРА КАБАЧКОВАЯ;ОЛИВКИ;МАСЛИНЫ|Ж/Б;СТ/Б;КОРНИШОНЫ;Б/К;В ТОМАТЕ|g ml|
крупы|grocery|РИС;ГРЕЧКА;КРУПА ГРЕЧНЕВАЯ;ПШЕНО;ПЕРЛОВКА;БУЛГУР;КУСКУС;ЧЕЧЕВИЦА;КРУПА МАННАЯ;ГОРОХ КОЛОТЫЙ|ЯДРИЦА;ДЛИННОЗЕРНЫЙ;ПРОПАРЕННЫЙ;ЖАСМИН;БАСМАТИ;В ПАКЕТИКАХ|g kg|
макароны|grocery|МАКАРОНЫ;СПАГЕТТИ;ВЕРМИШЕЛЬ;ЛАПША;ПЕННЕ;РОЖКИ;ФУЗИЛЛИ;ПЕРЬЯ;ФАРФАЛЛЕ|ГРУППА А;ТВ.СОРТ;ЯИЧНАЯ;ГНЕЗДА;БЫСТР.ПРИГ.|g kg|
мука и смеси для выпечки|grocery|МУКА;МУКА ПШЕНИЧНАЯ;РАЗРЫХЛИТЕЛЬ;ДРОЖЖИ;СМЕСЬ ДЛЯ ВЫПЕЧКИ;КРАХМАЛ;ВАНИЛИН;САХАР ВАНИЛЬНЫЙ|ВЫСШИЙ СОРТ;ХЛЕБОПЕКАРНАЯ;СУХИЕ;КАРТОФЕЛЬНЫЙ|g kg|
сахар и соль|grocery|САХАР;САХАР-ПЕСОК;САХАР ТРОСТНИКОВЫЙ;РАФИНАД;СОЛЬ;СОЛЬ ПОВАРЕННАЯ;ЗАМЕНИТЕЛЬ САХАРА;СОЛЬ МОРСКАЯ|ЙОДИРОВАННАЯ;ПОМОЛ №1;КУСКОВОЙ;ПИЩЕВАЯ;ЭКСТРА|g kg|
масло растительное|grocery|МАСЛО ПОДСОЛНЕЧНОЕ;МАСЛО ОЛИВКОВОЕ;МАСЛО РАСТИТЕЛЬНОЕ;МАСЛО КУКУРУЗНОЕ;МАСЛО ЛЬНЯНОЕ|РАФИНИРОВАННОЕ;НЕРАФ.;EXTRA VIRGIN;ДЕЗОДОР.;ХОЛ.ОТЖИМА|ml|
соусы и кетчупы|grocery|КЕТЧУП;СОУС;МАЙОНЕЗ;ГОРЧИЦА;ХРЕН;АДЖИКА;СОУС СОЕВЫЙ;ТКЕМАЛИ;СОУС ТОМАТНЫЙ|ПРОВАНСАЛЬ;ШАШЛЫЧНЫЙ;ОСТРЫЙ;ЧЕСНОЧНЫЙ;ДОЙ-ПАК;ТЕРИЯКИ|g ml|fat_mayo
специи и приправы|grocery|ПРИПРАВА;ПЕРЕЦ ЧЕРНЫЙ МОЛОТЫЙ;ПАПРИКА;ЛАВРОВЫЙ ЛИСТ;КОРИЦА;КУРКУМА;ХМЕЛИ-СУНЕЛИ;ЗИРА;ПРИПРАВА ДЛЯ ПЛОВА|МОЛОТЫЙ;ГОРОШЕК;УНИВЕРСАЛЬНАЯ;ДЛЯ КУРИЦЫ;ДЛЯ РЫБЫ|g|
завтраки и хлопья|grocery|ХЛОПЬЯ;МЮСЛИ;ГРАНОЛА;ХЛОПЬЯ ОВСЯНЫЕ;КАША БЫСТРОГО ПРИГОТОВЛЕНИЯ;ПОДУШЕЧКИ;ШАРИКИ ШОКОЛАДНЫЕ;ГЕРКУЛЕС|КУКУРУЗНЫЕ;МЕДОВЫЕ;ЗАПЕЧЕННЫЕ;@FLAV;ЭКСТРА|g|
мед и варенье|grocery|МЕД;ВАРЕНЬЕ;ДЖЕМ;КОНФИТЮР;ПОВИДЛО;ПАСТА ОРЕХОВАЯ;МОЛОКО СГУЩЕННОЕ;СГУЩЕНКА ВАРЕНАЯ|ЦВЕТОЧНЫЙ;ГРЕЧИШНЫЙ;ЛИПОВЫЙ;@FLAV;ЦЕЛЬНОЕ|g|
замороженные овощи и ягоды|frozen|СМЕСЬ ОВОЩНАЯ;ОВОЩИ ЗАМОРОЖЕННЫЕ;БРОККОЛИ;ЯГОДЫ ЗАМОРОЖЕННЫЕ;ГОРОШЕК ЗЕЛЕНЫЙ ЗАМ.;ФАСОЛЬ СТРУЧКОВАЯ;КАПУСТА ЦВЕТНАЯ;ЛЕЧО|МЕКСИКАНСКАЯ;ГАВАЙСКАЯ;ДЛЯ ЖАРКИ;С ГРИБАМИ;@FLAV|g kg|
мороженое|frozen|МОРОЖЕНОЕ;ПЛОМБИР;ЭСКИМО;РОЖОК;СОРБЕТ;ЛЕД ФРУКТОВЫЙ;СТАКАНЧИК ВАФЕЛЬНЫЙ;БРИКЕТ|ВАНИЛЬНЫЙ;КРЕМ-БРЮЛЕ;ШОКОЛАДНЫЙ;@FLAV;В ГЛАЗУРИ;ВАФ.СТАКАНЧИК|g ml|fat_ice
замороженные готовые блюда|frozen|ПИЦЦА;БЛИНЫ;ЛАЗАНЬЯ;СЫРНИКИ;ГОЛУБЦЫ;ПЕРЕЦ ФАРШИРОВАННЫЙ;ЗАПЕКАНКА;ВТОРЫЕ БЛЮДА|ЗАМ.;С МЯСОМ;С ТВОРОГОМ;ПЕППЕРОНИ;4 СЫРА;ВЕТЧИНА-ГРИБЫ|g|
кулинария|ready|САЛАТ;ШАУРМА;СЭНДВИЧ;ПЮРЕ КАРТОФЕЛЬНОЕ;ПЛОВ;КУРИЦА ГРИЛЬ;ВИНЕГРЕТ;ОЛИВЬЕ;ШАШЛЫК|СВЕЖИЙ;ДОМАШНИЙ;ЦЕЗАРЬ;ГРЕЧЕСКИЙ;ПОРЦИЯ;ВЕСОВОЙ|g kg|
суши и роллы|ready|РОЛЛ ФИЛАДЕЛЬФИЯ;СУШИ;СЕТ РОЛЛОВ;РОЛЛ КАЛИФОРНИЯ;НИГИРИ;ГУНКАН;РОЛЛ ЗАПЕЧЕННЫЙ;ПОКЕ|С ЛОСОСЕМ;С УГРЕМ;ТЕМПУРА;ОСТРЫЙ;С КРАБОМ|g pcs|
шоколад|sweets|ШОКОЛАД;ШОКОЛАД МОЛОЧНЫЙ;ШОКОЛАД ГОРЬКИЙ;ШОКОЛАД БЕЛЫЙ;ШОКОЛАД ПОРИСТЫЙ;ШОКОЛАД ТЕМНЫЙ|С ФУНДУКОМ;С ИЗЮМОМ;ЦЕЛЬНЫЙ ОРЕХ;70% КАКАО;ПЛИТКА;@FLAV|g|
шоколадные батончики|sweets|БАТОНЧИК;БАТОНЧИК ШОКОЛАДНЫЙ;ШОКОЛАДНЫЙ БАТОНЧИК;БАТОНЧИК ВАФЕЛЬНЫЙ;БАТОНЧИК С НУГОЙ;БАТОНЧИК ПРОТЕИНОВЫЙ|С АРАХИСОМ;КАРАМЕЛЬ;НУГА;КОКОС;МИНИ;МАКСИ|g|
конфеты|sweets|КОНФЕТЫ;КОНФЕТЫ ШОКОЛАДНЫЕ;КАРАМЕЛЬ;ИРИС;ДРАЖЕ;ТРЮФЕЛИ;НАБОР КОНФЕТ;ЛЕДЕНЦЫ;ПРАЛИНЕ|АССОРТИ;ВЕС.;КОРОБКА;@FLAV;С НАЧИНКОЙ;ПОДАРОЧНЫЙ|g kg|
мармелад и зефир|sweets|МАРМЕЛАД;ЗЕФИР;ПАСТИЛА;МАРМЕЛАД ЖЕВАТЕЛЬНЫЙ;СУФЛЕ;ХАЛВА;ЩЕРБЕТ;ЛУКУМ|ВАНИЛЬНЫЙ;В ШОКОЛАДЕ;ПОДСОЛНЕЧНАЯ;@FLAV;ЧЕРВЯЧКИ|g|
жевательная резинка|sweets|ЖЕВАТЕЛЬНАЯ РЕЗИНКА;ЖВАЧКА;РЕЗИНКА ЖЕВАТЕЛЬНАЯ;ДРАЖЕ ЖЕВАТЕЛЬНОЕ;ПАСТИЛКИ|МЯТА;БЕЗ САХАРА;СВЕЖАЯ МЯТА;@FLAV;АРБУЗ|g pcs|
чипсы|snacks|ЧИПСЫ;ЧИПСЫ КАРТОФЕЛЬНЫЕ;ЧИПСЫ РИФЛЕНЫЕ;ЧИПСЫ КУКУРУЗНЫЕ;НАЧОС;ЧИПСЫ ИЗ ЛАВАША;ЧИПСЫ ОВОЩНЫЕ|СМЕТАНА-ЗЕЛЕНЬ;СЫР;БЕКОН;КРАБ;ПАПРИКА;СОЛЬ|g|
сухарики и снеки|snacks|СУХАРИКИ;КРУТОНЫ;ПОПКОРН;СНЕКИ;СОЛОМКА;КУКУРУЗНЫЕ ПАЛОЧКИ;ГРЕНКИ;КРЕКЕРЫ СОЛЕНЫЕ|РЖАНЫЕ;ХОЛОДЕЦ С ХРЕНОМ;СЫР;БЕКОН;ЧЕСНОК;СОЛЕНЫЙ|g|
семечки и закуски к пиву|snacks|СЕМЕЧКИ;ФИСТАШКИ;АРАХИС СОЛЕНЫЙ;СЕМЕНА ТЫКВЫ;ОРЕШКИ;КАЛЬМАР СУШЕНЫЙ;РЫБКА СУШЕНАЯ;СЫР КОСИЧКА|ЖАРЕНЫЕ;СОЛЕНЫЕ;ОТБОРНЫЕ;ЯНТАРНАЯ;ПОЛОСКИ|g|
вода|drinks|ВОДА;ВОДА ПИТЬЕВАЯ;ВОДА МИНЕРАЛЬНАЯ;ВОДА ГАЗ.;ВОДА Н/ГАЗ;ВОДА СТОЛОВАЯ;ВОДА ДЕТСКАЯ|ГАЗ.;Н/ГАЗ;ЛЕЧЕБНО-СТОЛОВАЯ;АРТЕЗИАНСКАЯ;ПЭТ|ml water|
газированные напитки|drinks|НАПИТОК ГАЗИРОВАННЫЙ;ЛИМОНАД;КОЛА;ТОНИК;ГАЗИРОВКА;НАПИТОК СИЛЬНОГАЗ.;ТАРХУН;СИТРО|ЗЕРО;БЕЗ САХАРА;@FLAV;ДЮШЕС;КРЕМ-СОДА;ПЭТ|ml|
соки|drinks|СОК;СОК ПРЯМОГО ОТЖИМА;СОК ВОССТАНОВЛЕННЫЙ;СОК ТОМАТНЫЙ;СОК АПЕЛЬСИНОВЫЙ;СОК ЯБЛОЧНЫЙ|@FLAV;100%;ОСВЕТЛЕННЫЙ;С МЯКОТЬЮ;Т/П|ml|
нектары и морсы|drinks|НЕКТАР;МОРС;НАПИТОК СОКОСОДЕРЖАЩИЙ;КОМПОТ;НЕКТАР МУЛЬТИФРУКТ;НАПИТОК МОРСОВЫЙ|@FLAV;С МЯКОТЬЮ;Т/П;КЛЮКВЕННЫЙ;БРУСНИЧНЫЙ|ml|
энергетические напитки|drinks|ЭНЕРГЕТИК;НАПИТОК ЭНЕРГЕТИЧЕСКИЙ;НАПИТОК ТОНИЗИРУЮЩИЙ;ЭНЕРГЕТИЧЕСКИЙ НАПИТОК;ИЗОТОНИК|Ж/Б;ГАЗ.;ULTRA;@FLAV;ORIGINAL|ml|
холодный чай и квас|drinks|ЧАЙ ХОЛОДНЫЙ;КВАС;НАПИТОК ЧАЙНЫЙ;КВАС ХЛЕБНЫЙ;КОМБУЧА;КВАС ОКРОШЕЧНЫЙ|ЛИМОН;ПЕРСИК;ЗЕЛЕНЫЙ;ЖИВОЙ;ПЭТ;НЕФИЛЬТР.|ml|
чай|hot|ЧАЙ;ЧАЙ ЧЕРНЫЙ;ЧАЙ ЗЕЛЕНЫЙ;ЧАЙ ЛИСТОВОЙ;ЧАЙ ПАКЕТИРОВАННЫЙ;НАПИТОК ТРАВЯНОЙ;ЧАЙ ФРУКТОВЫЙ;ЧАЙ УЛУН|ЦЕЙЛОНСКИЙ;ИНДИЙСКИЙ;С БЕРГАМОТОМ;КРУПНОЛИСТОВОЙ;25ПАК;100ПАК|g teabag|
кофе|hot|КОФЕ;КОФЕ МОЛОТЫЙ;КОФЕ В ЗЕРНАХ;КОФЕ РАСТВОРИМЫЙ;КОФЕ В КАПСУЛАХ;НАПИТОК КОФЕЙНЫЙ;КОФЕ СУБЛИМИРОВАННЫЙ|АРАБИКА;РОБУСТА;ЭСПРЕССО;ГОЛД;CLASSIC;М/У;СТ/Б|g|
какао и горячий шоколад|hot|КАКАО;КАКАО-ПОРОШОК;ГОРЯЧИЙ ШОКОЛАД;НАПИТОК КАКАО;КАКАО-НАПИТОК;ЦИКОРИЙ|РАСТВОРИМЫЙ;БЫСТРОРАСТВОРИМЫЙ;НАТУРАЛЬНЫЙ;ОБЕЗЖИРЕННЫЙ|g|
кофейня|hot|КАПУЧИНО;ЛАТТЕ;АМЕРИКАНО;ЭСПРЕССО;РАФ;ФЛЭТ УАЙТ;КАКАО НА МОЛОКЕ;ЧАЙ В ЧАЙНИКЕ|ДВОЙНОЙ;СИРОП;НА РАСТИТ.МОЛОКЕ;ЛАВАНДА;ЛЕД|cup|
пиво|alco|ПИВО;ПИВО СВЕТЛОЕ;ПИВО ТЕМНОЕ;ПИВО НЕФИЛЬТРОВАННОЕ;ЛАГЕР;ЭЛЬ;СТАУТ;ПИВО ПШЕНИЧНОЕ|ПАСТ.;Ж/Б;СТ/Б;ПЭТ;РАЗЛИВНОЕ;ЖИГУЛЕВСКОЕ|ml beer|alc_beer
безалкогольное пиво|alco|ПИВО Б/А;ПИВО БЕЗАЛК.;НАПИТОК ПИВНОЙ Б/А;ПИВО БЕЗАЛКОГОЛЬНОЕ;ЛАГЕР Б/А;ПИВО 0,0%|Ж/Б;СТ/Б;ПАСТ.;СВЕТЛОЕ;НЕФИЛЬТР.|ml beer|alc_zero
сидр и слабоалкогольные напитки|alco|СИДР;ПУАРЕ;МЕДОВУХА;КОКТЕЙЛЬ СЛАБОАЛКОГОЛЬНЫЙ;НАПИТОК ПИВНОЙ;ДЖИН-ТОНИК;СЕЛТЗЕР|@FLAV;ГАЗ.;Ж/Б;СЛАДКИЙ;СУХОЙ|ml beer|alc_low
вино|alco|ВИНО;ВИНО КРАСНОЕ СУХОЕ;ВИНО БЕЛОЕ П/СЛ;ВИНО РОЗОВОЕ;ВИНО СТОЛОВОЕ;ПОРТВЕЙН;ХЕРЕС;ВИНО ГРУЗИНСКОЕ|КР.СУХ.;БЕЛ.П/СЛ;МЕРЛО;КАБЕРНЕ;САПЕРАВИ;ШАРДОНЕ;РИСЛИНГ|ml wine|alc_wine
игристые вина|alco|ШАМПАНСКОЕ;ВИНО ИГРИСТОЕ;ПРОСЕККО;АСТИ;КАВА;ЛАМБРУСКО;КРЕМАН|БРЮТ;П/СЛ;ПОЛУСУХОЕ;БЕЛОЕ;РОЗОВОЕ;ЭКСТРА БРЮТ|ml wine|alc_wine
водка и настойки|alco|ВОДКА;ВОДКА ОСОБАЯ;НАСТОЙКА;НАСТОЙКА ГОРЬКАЯ;САМОГОН;НАСТОЙКА СЛАДКАЯ;ХРЕНОВУХА|ЛЮКС;АЛЬФА;МЯГКАЯ;КЕДРОВАЯ;ПЕРЦОВАЯ;КЛЮКВЕННАЯ|ml strong|alc_strong
коньяк и бренди|alco|КОНЬЯК;БРЕНДИ;КАЛЬВАДОС;АРМАНЬЯК;ГРАППА;ЧАЧА;КОНЬЯК АРМЯНСКИЙ|3 ЗВЕЗДЫ;5 ЛЕТ;КВ;VSOP;ВЫДЕРЖАННЫЙ;ПОДАРОЧНАЯ УПАКОВКА|ml strong|alc_strong
виски ром джин|alco|ВИСКИ;БУРБОН;РОМ;ДЖИН;ТЕКИЛА;ЛИКЕР;АБСЕНТ;ВИСКИ КУПАЖИРОВАННЫЙ|ВЫДЕРЖКА 12 ЛЕТ;СОЛОД.;ЗОЛОТОЙ;БЕЛЫЙ;ПРЯНЫЙ;ТУБА|ml strong|alc_strong
табак|tobacco|СИГАРЕТЫ;СИГАРИЛЛЫ;ТАБАК;СТИКИ;НАГРЕВАЕМЫЙ ТАБАК;ПАПИРОСЫ;ЖИДКОСТЬ ДЛЯ ЭЛ.СИГАРЕТ|МРЦ;КОМПАКТ;СУПЕРСЛИМС;С КНОПКОЙ;ТАБАЧНЫЕ;МЕНТОЛ|tobacco|
средства для стирки|household|ПОРОШОК СТИРАЛЬНЫЙ;ГЕЛЬ ДЛЯ СТИРКИ;КАПСУЛЫ ДЛЯ СТИРКИ;КОНДИЦИОНЕР ДЛЯ БЕЛЬЯ;ОТБЕЛИВАТЕЛЬ;ПЯТНОВЫВОДИТЕЛЬ;ОПОЛАСКИВАТЕЛЬ ДЛЯ БЕЛЬЯ|АВТОМАТ;COLOR;ДЛЯ БЕЛОГО;ЛАВАНДА;СВЕЖЕСТЬ;КОНЦЕНТРАТ|g ml pcs|
чистящие средства|household|СРЕДСТВО ЧИСТЯЩЕЕ;СРЕДСТВО ДЛЯ МЫТЬЯ ПОСУДЫ;ГЕЛЬ ДЛЯ ПОСУДЫ;ТАБЛЕТКИ ДЛЯ ПММ;СРЕДСТВО ДЛЯ СТЕКОЛ;ЧИСТЯЩИЙ ПОРОШОК;ОСВЕЖИТЕЛЬ ВОЗДУХА;СРЕДСТВО ДЛЯ ТРУБ|ЛИМОН;АНТИЖИР;УНИВЕРСАЛЬНОЕ;АЭРОЗОЛЬ;КУХНЯ;ВАННАЯ|ml pcs|
бумажная продукция|household|ТУАЛЕТНАЯ БУМАГА;БУМАГА ТУАЛЕТНАЯ;ПОЛОТЕНЦА БУМАЖНЫЕ;САЛФЕТКИ;ПЛАТОЧКИ БУМАЖНЫЕ;САЛФЕТКИ ВЛАЖНЫЕ;САЛФЕТКИ БУМАЖНЫЕ|2-СЛ;3-СЛ;БЕЛАЯ;АНТИБАКТ.;РУЛОН;ДЕТСКИЕ|rolls|
хозяйственные товары|household|ГУБКИ;ПЕРЧАТКИ ХОЗЯЙСТВЕННЫЕ;МЕШКИ ДЛЯ МУСОРА;ФОЛЬГА;ПЛЕНКА ПИЩЕВАЯ;ТРЯПКА;ПАКЕТЫ ДЛЯ ЗАМОРОЗКИ;ЛАМПОЧКА;СВЕЧИ|ЛАТЕКС;120Л;МИКРОФИБРА;РУЛОН;ПРОЧНЫЕ;E27|pcs rolls|
уход за волосами|cosmetics|ШАМПУНЬ;БАЛЬЗАМ ДЛЯ ВОЛОС;КОНДИЦИОНЕР ДЛЯ ВОЛОС;МАСКА ДЛЯ ВОЛОС;КРАСКА ДЛЯ ВОЛОС;ЛАК ДЛЯ ВОЛОС;ПЕНКА ДЛЯ УКЛАДКИ|ОБЪЕМ;ВОССТАНОВЛЕНИЕ;ПРОТИВ ПЕРХОТИ;ДЛЯ ОКРАШЕННЫХ;2В1;ЭКСТРА ФИКС.|ml|
гигиена тела|cosmetics|МЫЛО;МЫЛО ЖИДКОЕ;ГЕЛЬ ДЛЯ ДУША;ДЕЗОДОРАНТ;АНТИПЕРСПИРАНТ;ПЕНА ДЛЯ ВАННЫ;СКРАБ ДЛЯ ТЕЛА|ТУАЛЕТНОЕ;КРЕМ-МЫЛО;АЛОЭ;СВЕЖЕСТЬ;РОЛИК;СПРЕЙ|ml g|
уход за полостью рта|cosmetics|ЗУБНАЯ ПАСТА;ЗУБНАЯ ЩЕТКА;ОПОЛАСКИВАТЕЛЬ ДЛЯ РТА;НИТЬ ЗУБНАЯ;ПАСТА ЗУБНАЯ;ЩЕТКА ЗУБНАЯ ДЕТСКАЯ|ОТБЕЛИВАЮЩАЯ;ЗАЩИТА ДЕСЕН;СРЕДНЕЙ ЖЕСТК.;МЯГКАЯ;ТРАВЫ;ФТОР|ml pcs|
косметика и уход за кожей|cosmetics|КРЕМ ДЛЯ ЛИЦА;КРЕМ ДЛЯ РУК;ЛОСЬОН;ТУШЬ ДЛЯ РЕСНИЦ;ПОМАДА;ТОНИК ДЛЯ ЛИЦА;МАСКА ТКАНЕВАЯ;ПУДРА|УВЛАЖНЯЮЩИЙ;ПИТАТЕЛЬНЫЙ;НОЧНОЙ;SPF 30;МАТИРУЮЩИЙ;ОБЪЕМ|ml g|
бритье|cosmetics|СТАНОК ДЛЯ БРИТЬЯ;КАССЕТЫ СМЕННЫЕ;ПЕНА ДЛЯ БРИТЬЯ;ГЕЛЬ ДЛЯ БРИТЬЯ;БРИТВА ОДНОРАЗОВАЯ;ЛОСЬОН ПОСЛЕ БРИТЬЯ;БАЛЬЗАМ ПОСЛЕ БРИТЬЯ|3 ЛЕЗВИЯ;5 ЛЕЗВИЙ;ДЛЯ ЧУВСТВ.КОЖИ;МУЖСКОЙ;ЖЕНСКИЙ|ml pcs|
женская гигиена|cosmetics|ПРОКЛАДКИ;ТАМПОНЫ;ЕЖЕДНЕВНЫЕ ПРОКЛАДКИ;ПРОКЛАДКИ ГИГИЕНИЧЕСКИЕ;ВАТНЫЕ ДИСКИ;ВАТНЫЕ ПАЛОЧКИ;ПРОКЛАДКИ НОЧНЫЕ|НОРМАЛ;СУПЕР;УЛЬТРА;4 КАПЛИ;ДУО;ТОНКИЕ|pcs|
детское питание|baby|ПЮРЕ ДЕТСКОЕ;КАША ДЕТСКАЯ;СМЕСЬ МОЛОЧНАЯ;ДЕТСКОЕ ПИТАНИЕ;СОК ДЕТСКИЙ;ПЕЧЕНЬЕ ДЕТСКОЕ;ТВОРОЖОК ДЕТСКИЙ|С 4 МЕС;С 6 МЕС;С 12 МЕС;@FLAV;БЕЗМОЛОЧНАЯ;ГИПОАЛЛЕРГЕННАЯ|g ml|
подгузники и детские товары|baby|ПОДГУЗНИКИ;ТРУСИКИ-ПОДГУЗНИКИ;ПЕЛЕНКИ;СОСКА;БУТЫЛОЧКА;САЛФЕТКИ ДЕТСКИЕ;ПУСТЫШКА;ИГРУШКА|ДЛЯ МАЛЬЧИКОВ;ДЛЯ ДЕВОЧЕК;ВПИТЫВАЮЩИЕ;СИЛИКОН;0+|diapers|
корм для кошек|pets|КОРМ ДЛЯ КОШЕК;ПАУЧ ДЛЯ КОШЕК;НАПОЛНИТЕЛЬ;КОНСЕРВЫ ДЛЯ КОШЕК;ЛАКОМСТВО ДЛЯ КОШЕК;КОРМ СУХОЙ ДЛЯ КОШЕК|КУРИЦА;ГОВЯДИНА;ЛОСОСЬ;В СОУСЕ;В ЖЕЛЕ;ДЛЯ СТЕРИЛИЗОВАННЫХ|g kg|
корм для собак|pets|КОРМ ДЛЯ СОБАК;ЛАКОМСТВО ДЛЯ СОБАК;КОСТОЧКА;ПАУЧ ДЛЯ СОБАК;КОНСЕРВЫ ДЛЯ СОБАК;КОРМ СУХОЙ ДЛЯ СОБАК|КУРИЦА;ГОВЯДИНА;ЯГНЕНОК;МЕЛКИХ ПОРОД;КРУПНЫХ ПОРОД;ДЛЯ ЩЕНКОВ|g kg|
лекарства и витамины|pharma|ТАБЛЕТКИ;КАПЛИ;СИРОП;МАЗЬ;ПЛАСТЫРЬ;БАД;ВИТАМИНЫ;КАПСУЛЫ;СПРЕЙ НАЗАЛЬНЫЙ|ПОКРЫТЫЕ ОБОЛОЧКОЙ;ШИПУЧИЕ;ДЛЯ ДЕТЕЙ;ДОЗИРОВАННЫЙ;ФЛ.|pharma|
канцтовары|nonfood|РУЧКА ШАРИКОВАЯ;ТЕТРАДЬ;КАРАНДАШ;БЛОКНОТ;ЛАСТИК;ФЛОМАСТЕРЫ;ПАПКА;КЛЕЙ-КАРАНДАШ;ТЕТРАДЬ ОБЩАЯ|СИНЯЯ;48Л;КЛЕТКА;ЛИНЕЙКА;А4;12 ЦВЕТОВ|pcs sheets|
одежда и обувь|nonfood|ФУТБОЛКА;НОСКИ;КОЛГОТКИ;ТРУСЫ;ШАПКА;ПЕРЧАТКИ ТРИКОТАЖНЫЕ;ТАПОЧКИ;ФУТБОЛКА ЖЕНСКАЯ;ВАРЕЖКИ|МУЖСКИЕ;ЖЕНСКИЕ;ДЕТСКИЕ;ХЛОПОК;20 DEN;ЧЕРНЫЙ|size|
посуда|nonfood|ТАРЕЛКА;КРУЖКА;СТАКАН;СКОВОРОДА;КАСТРЮЛЯ;НОЖ;ЛОЖКА;КОНТЕЙНЕР;ПОСУДА ОДНОРАЗОВАЯ|КЕРАМИКА;СТЕКЛО;АНТИПРИГАРНАЯ;НЕРЖ.;26СМ;ПЛАСТИК|pcs cm|
электроника и аксессуары|nonfood|БАТАРЕЙКИ;ЭЛЕМЕНТ ПИТАНИЯ;ЗАРЯДНОЕ УСТРОЙСТВО;КАБЕЛЬ USB;НАУШНИКИ;КАРТА ПАМЯТИ;ФЛЕШКА;ЧЕХОЛ ДЛЯ ТЕЛЕФОНА|ТИП-C;LIGHTNING;АЛКАЛИНОВЫЕ;32GB;БЕСПРОВОДНЫЕ;1М|elec|
топливо|services|АИ-92;АИ-95;АИ-98;ДТ;ДИЗЕЛЬНОЕ ТОПЛИВО;БЕНЗИН;ГАЗ АВТОМОБИЛЬНЫЙ;ТОПЛИВО|ЕВРО;ЭКТО;PULSAR;G-DRIVE;ЗИМНЕЕ;ПРЕМИУМ|fuel|
услуги|services|УСЛУГА;ОБСЛУЖИВАНИЕ;СЕРВИСНЫЙ СБОР;МОЙКА АВТОМОБИЛЯ;ПАРКОВКА;ПЕЧАТЬ ФОТО;РЕМОНТ ОБУВИ;СТРИЖКА|СТАНДАРТ;КОМПЛЕКС;ЧАС;ПРЕДОПЛАТА;ПО ЗАКАЗУ|svc|
доставка|services|ДОСТАВКА;ДОСТАВКА ЗАКАЗА;ДОСТАВКА КУРЬЕРОМ;ЭКСПРЕСС-ДОСТАВКА;ПОДЪЕМ НА ЭТАЖ;САМОВЫВОЗ;ДОСТАВКА ТОВАРА|ПО ГОРОДУ;ЗА МКАД;ДО ДВЕРИ;БЕСПЛАТНАЯ;СРОЧНАЯ|svc|
пакеты|services|ПАКЕТ;ПАКЕТ-МАЙКА;ПАКЕТ ФАСОВОЧНЫЙ;ПАКЕТ БУМАЖНЫЙ;СУМКА ХОЗЯЙСТВЕННАЯ;ПАКЕТ ПОЛИЭТИЛЕНОВЫЙ;ПАКЕТ С ЛОГОТИПОМ|БОЛЬШОЙ;МАЛЫЙ;ПНД;ПВД;30Х60;ФИРМЕННЫЙ|bags|
лапша и супы быстрого приготовления|grocery|ЛАПША БЫСТРОГО ПРИГОТОВЛЕНИЯ;СУП БЫСТРОГО ПРИГОТОВЛЕНИЯ;ПЮРЕ БЫСТРОГО ПРИГОТОВЛЕНИЯ;БУЛЬОН;ЛАПША Б/П;ВЕРМИШЕЛЬ Б/П;РАМЕН|КУРИЦА;ГОВЯДИНА;ГРИБЫ;ОСТРАЯ;СТАКАН;ЛОТОК|g|
""".strip()

_FAMILY_DESCS = {
    "dairy": "ФЕРМЕРСКИЙ;НАТУРАЛЬНЫЙ;ДЕРЕВЕНСКИЙ;ЛАКТОЗОФРИ;ПЛ/Б;ТВ/П;ПЮР-ПАК;БЗМЖ",
    "bakery": "СВЕЖИЙ;ДОМАШНИЙ;В/С;НАРЕЗКА;ИНД.УП.;СОБСТВ.ПР-ВО",
    "produce": "ВЕС.;ФАС.;ЛОТОК;1 СОРТ;УЗБЕКИСТАН;ТУРЦИЯ;МАРОККО;ЭКВАДОР;РОССИЯ",
    "meat": "ОХЛАЖДЕННЫЙ;ПОДЛОЖКА;В/У;ВЕС.;ФЕРМЕРСКИЙ;ОТБОРНЫЙ",
    "fish": "ВЕС.;В/У;ФИЛЕ;С/М;ДАЛЬНИЙ ВОСТОК;МУРМАНСК",
    "grocery": "ФАС.;ПАКЕТ;БАНКА;КАРТОН;ЭКОНОМ;ПРЕМИУМ",
    "frozen": "ЗАМ.;ШОКОВОЙ ЗАМОРОЗКИ;ФАС.;ПАКЕТ;ВЕС.",
    "ready": "СОБСТВ.ПР-ВО;ПОРЦ.;КОНТЕЙНЕР;ГОРЯЧИЙ;ВЕС.",
    "sweets": "АССОРТИ;МИНИ;ВЕС.;ИНД.УП.;ПОДАРОЧНЫЙ",
    "snacks": "ПАКЕТ;МАКСИ;ОСТРЫЙ;ХРУСТЯЩИЙ;ВЕС.",
    "drinks": "ПЭТ;Ж/Б;СТ/Б;ГАЗ.;Н/ГАЗ;ОХЛ.",
    "hot": "М/У;СТ/Б;ПАКЕТ;Д/П;ЖЕСТ.БАНКА",
    "alco": "АЛК.;СТ/Б;Ж/Б;ПОДАР.УП.;РОССИЯ;ИТАЛИЯ;ФРАНЦИЯ",
    "tobacco": "МРЦ;ПАЧКА;БЛОК;ТАБ.ИЗД.",
    "household": "ФЛАКОН;Д/П;СМЕННЫЙ БЛОК;ЭКО;КОНЦЕНТРАТ",
    "cosmetics": "ФЛАКОН;ТУБА;ЖЕН.;МУЖ.;ДЛЯ ВСЕХ ТИПОВ",
    "baby": "ДЕТСК.;С РОЖДЕНИЯ;ЭКО;ГИПОАЛЛЕРГЕННО",
    "pets": "ПАУЧ;Ж/Б;ДЛЯ ВЗРОСЛЫХ;СУХОЙ;ВЛАЖНЫЙ",
    "pharma": "N10;N20;N30;ФЛ.;УП.;АПТЕКА",
    "nonfood": "ШТ.;АРТИКУЛ;УП.;ИМПОРТ;КИТАЙ",
    "services": "ШТ.;ЗАКАЗ;КАССА;ЧЕК;ПРЕДОПЛ.",
}

_FLAVOURS = ("КЛУБНИКА;ВИШНЯ;ЯБЛОКО;ПЕРСИК;МАНГО;АПЕЛЬСИН;БАНАН;МАЛИНА;ЧЕРНИКА;ГРУША;"
             "АНАНАС;ЛИМОН;ВАНИЛЬ;КАРАМЕЛЬ;ЧЕРНАЯ СМОРОДИНА;МУЛЬТИФРУКТ;КЛУБНИКА-БАНАН;ЛЕСНЫЕ ЯГОДЫ")

# Groups of easily confused categories: they share an extra set of brands (by category name).
_TWINS = [
    ["соки", "нектары и морсы", "детское питание"],
    ["пиво", "безалкогольное пиво"],
    ["шоколад", "шоколадные батончики", "конфеты"],
    ["сыры твердые", "сыры мягкие и плавленые"],
    ["колбасы", "сосиски и сардельки", "мясные деликатесы"],
    ["кофе", "кофейня", "какао и горячий шоколад"],
    ["корм для кошек", "корм для собак"],
    ["чипсы", "сухарики и снеки"],
    ["водка и настойки", "коньяк и бренди", "виски ром джин"],
    ["молоко и сливки", "кисломолочные продукты", "йогурты"],
    ["творог и сырки", "сметана"],
    ["вода", "газированные напитки"],
    ["средства для стирки", "чистящие средства"],
    ["мармелад и зефир", "жевательная резинка"],
]


def _fmt(x: float) -> str:
    s = f"{x:g}"
    return s


def _qty_pool(profile: str) -> list[str]:
    out: list[str] = []
    if profile == "ml":
        for v in (100, 200, 250, 330, 450, 500, 750, 900, 930, 950, 1000, 1450, 1500, 2000):
            out += [f"{v}МЛ", f"{v} МЛ", f"{v}ML"]
            lit = _fmt(v / 1000)
            out += [f"{lit.replace('.', ',')}Л", f"{lit} Л", f"{lit.replace('.', ',')} Л"]
    elif profile == "water":
        out = ["5Л", "5 Л", "19Л", "6Л", "1,5Л", "0,5Л", "0,33Л", "1,5 Л", "12Х0,5Л", "6Х1,5Л"]
    elif profile == "l_big":
        out = ["1Л", "4Л", "5Л", "4 Л", "1 Л", "5L", "4L"]
    elif profile == "g":
        for v in (30, 40, 45, 50, 70, 80, 90, 100, 120, 150, 180, 200, 230, 250, 300, 350, 400,
                  450, 500, 600, 800, 900):
            out += [f"{v}Г", f"{v} Г", f"{v}ГР", f"{v}G"]
        out += ["1КГ", "1 КГ", "2КГ"]
    elif profile == "kg":
        out = ["1КГ", "1 КГ", "КГ", "/КГ", "ВЕС", "ВЕС.", "0,5КГ", "2,5 КГ", "5КГ", "1КГ*", "1 КГ."]
    elif profile == "pcs":
        out = ["1ШТ", "1 ШТ", "2ШТ", "4ШТ", "6ШТ", "6 ШТ", "10ШТ", "12ШТ", "20ШТ", "Х10", "Х6",
               "Х4", "УП 10ШТ", "N10", "30ШТ", "3 ШТ"]
    elif profile == "eggs":
        out = ["10ШТ", "10 ШТ", "6ШТ", "20ШТ", "30ШТ", "Х10", "1 ДЕС", "ДЕС.", "10ШТ/УП", "12ШТ"]
    elif profile == "teabag":
        out = ["25Х2Г", "100Х2Г", "25ПАК", "20ПАК", "100 ПАК", "25Х1,8Г", "Х25", "Х100"]
    elif profile == "cup":
        out = ["0,3Л", "0,4Л", "250МЛ", "350 МЛ", "S", "M", "L", "XL", "ОБЪЕМ 300"]
    elif profile == "beer":
        out = ["0,45Л", "0,5Л", "0,5 Л", "0,33Л", "1,35Л", "1,5Л", "0,45 Л", "450МЛ", "4Х0,5Л",
               "6Х0,33Л"]
    elif profile == "wine":
        out = ["0,75Л", "0,75 Л", "750МЛ", "0,187Л", "1,5Л", "3Л", "0,375Л"]
    elif profile == "strong":
        out = ["0,5Л", "0,5 Л", "0,7Л", "0,25Л", "0,1Л", "1Л", "0,375Л", "0,7 Л", "500МЛ"]
    elif profile == "tobacco":
        out = ["20ШТ", "МРЦ 189", "МРЦ 205", "МРЦ 220", "МРЦ 167", "МРЦ 250", "10 ШТ", "1 ПАЧ",
               "БЛОК", "МРЦ 199-00"]
    elif profile == "rolls":
        out = ["4 РУЛ", "4РУЛ", "8РУЛ", "12 РУЛ", "2РУЛ", "100ШТ", "10Х10", "72ШТ", "1 РУЛ"]
    elif profile == "diapers":
        out = ["4-9КГ", "6-10КГ", "9-14 КГ", "12-17КГ", "РАЗМ.3", "РАЗМ.4", "N52", "N44", "Р.5",
               "54ШТ", "2 (3-6КГ)"]
    elif profile == "pharma":
        out = ["N10", "N20", "N30", "№30", "№60", "50МГ", "100МГ", "500МГ", "10МЛ", "100 МЛ",
               "15Г", "0,1%", "500 МГ N20"]
    elif profile == "sheets":
        out = ["12Л", "48Л", "96Л", "18 Л", "А4", "А5", "80Л", "100Л"]
    elif profile == "size":
        out = ["Р.42", "Р.44", "Р.46", "Р.48", "РАЗМ.M", "РАЗМ.L", "XL", "S", "Р.25", "Р.27",
               "Р.38-40", "РОСТ 128"]
    elif profile == "cm":
        out = ["20СМ", "24СМ", "26 СМ", "28СМ", "0,3Л", "250МЛ", "1,5Л", "3Л", "6 ШТ", "D22"]
    elif profile == "elec":
        out = ["AA", "AAA", "LR6", "LR03", "2ШТ", "4ШТ", "1М", "2М", "32GB", "64 GB", "BL4",
               "1А", "2,1А"]
    elif profile == "fuel":
        out = ["(Л)", "Л", "ТРК 1", "ТРК 2", "ТРК 3", "ТРК №4", "ТРК №5", "КОЛ.6", "ЛИТР",
               "Л. ТРК 7", "КОЛОНКА 8"]
    elif profile == "svc":
        out = ["", "1 ЧАС", "ЗАКАЗ", "№ 1", "1 УСЛ", "ШТ", "1 ШТ", "30 МИН", "2 ЧАСА"]
    elif profile == "bags":
        out = ["", "1ШТ", "30Х60", "38Х65", "40Х70", "25МКМ", "15 МКМ", "БОЛ.", "МАЛ.", "100ШТ"]
    else:  # pragma: no cover - spec error
        raise KeyError(profile)
    return out


def _pct_pool(profile: str) -> list[str]:
    vals = {
        "fat_milk": (0.05, 0.5, 1, 1.5, 2.5, 3.2, 3.4, 3.5, 3.6, 4, 6, 10),
        "fat_sour": (0.1, 2, 5, 9, 10, 12, 15, 18, 20, 25, 30),
        "fat_butter": (72.5, 78, 82, 82.5, 61.5, 99, 50),
        "fat_cheese": (17, 20, 30, 40, 45, 48, 50, 55, 60),
        "fat_mayo": (15, 30, 40, 50, 56, 67, 67.5, 72),
        "fat_ice": (8, 10, 12, 12.5, 15, 3.5, 5),
        "alc_beer": (4, 4.5, 4.6, 4.7, 4.8, 5, 5.2, 5.5, 6, 6.5, 7, 8),
        "alc_zero": (0, 0.5, 0.0),
        "alc_low": (4, 4.5, 5, 5.5, 6, 6.9, 7, 9),
        "alc_wine": (9, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14, 15, 18),
        "alc_strong": (35, 37.5, 38, 40, 42, 43, 45, 47),
    }[profile]
    out = []
    for v in vals:
        s = _fmt(v)
        out += [s.replace(".", ",") + "%", s + "%", s.replace(".", ",") + " %"]
    if profile == "alc_zero":
        out += ["0,0%", "Б/А", "0%"]
    return out


_EXTRAS = ("ПЭТ;Т/П;Ж/Б;СТ/Б;ВЕС.;*;/;ФАС.;ПЛ/УП;П/П;М/У;ИНД.УП.;АКЦИЯ;1/12;1/6;1/20;ГОСТ;"
           "НОВИНКА;СКИДКА;ПРОМО;ШТ;УП.;1*6;(1)").split(";")

_GENERIC_HEADS = ("ТОВАР;ТОВАР ВЕСОВОЙ;СВОБОДНАЯ ЦЕНА;НАБОР;АКЦИОННЫЙ ТОВАР;ПОДАРОК;ПОЗИЦИЯ;"
                  "УЦЕНКА;ТОВАР ПО АКЦИИ;АРТИКУЛ;ПРОЧЕЕ;ВОЗВРАТ ТАРЫ;КОМПЛЕКТ").split(";")

_CONS = "БВГДЖЗКЛМНПРСТФХЦЧШ"
_VOWELS = "АЕИОУЯЮЭ"
_LAT_CONS = "BCDFGKLMNPRSTVZ"
_LAT_VOW = "AEIOU"
_ADJ = ("ЗОЛОТАЯ;ВКУСНЫЙ;ДОБРЫЙ;СЕВЕРНЫЙ;РУССКИЙ;ДОМАШНИЙ;ВЕСЕЛЫЙ;КРАСНАЯ;ЗЕЛЕНЫЙ;СВЕТЛЫЙ;"
        "ЛЕТНИЙ;СТАРЫЙ;ВЕЛИКИЙ;ЧИСТАЯ;НАРОДНЫЙ;БЕЛАЯ;ЩЕДРЫЙ;СОЛНЕЧНЫЙ;ЯСНЫЙ;ТИХИЙ").split(";")
_NOUN = ("НИВА;ДВОР;ЛУГ;БЕРЕГ;ПОЛЕ;САД;РЕЦЕПТ;МАСТЕР;КРАЙ;ДОЛИНА;ЗВЕЗДА;РОЩА;ОСТРОВ;ГОРОД;"
         "ПРОСТОР;ХУТОР;КУПЕЦ;ТРАКТИР;ЛЕС;РУЧЕЙ").split(";")


def _parse_spec():
    cats = []
    for line in _SPEC.splitlines():
        parts = line.split("|")
        if len(parts) != 6:  # pragma: no cover - spec error
            raise ValueError(f"bad spec line: {line!r}")
        name, family, heads, descs, qty, pct = parts
        cats.append(dict(name=name, family=family, heads=heads.split(";"),
                         descs=descs.split(";"), qty=qty.split(), pct=pct or None))
    return cats


CATEGORIES = _parse_spec()
CATEGORY_NAMES = [c["name"] for c in CATEGORIES]
N_CLASSES = len(CATEGORIES)
assert N_CLASSES == 96, N_CLASSES
assert len(set(CATEGORY_NAMES)) == 96


def _is_vowel(ch: str) -> bool:
    return ch in "АЕЁИОУЫЭЮЯ"


def _prefix_abbr(word: str, rng: np.random.Generator) -> str:
    """МОЛОКО -> МОЛ.; ПИТЬЕВОЕ -> ПИТЬЕВ.; short or marked words are kept."""
    if len(word) <= 4 or any(c in word for c in "./-0123456789") or not word.isalpha():
        return word
    k = int(rng.integers(3, min(6, len(word) - 1) + 1))
    while k < len(word) - 1 and _is_vowel(word[k - 1]):
        k += 1
    if k >= len(word) - 1:
        return word
    return word[:k] + "."


def _skeleton(word: str) -> str:
    """Consonant skeleton: МОЛОКО -> МЛК, ТВОРОЖОК -> ТВРЖ."""
    if len(word) <= 3 or not word.isalpha():
        return word
    cons = [c for c in word[1:] if not _is_vowel(c) and c not in "ЬЪЙ"]
    return (word[0] + "".join(cons))[:4]


class _Pool:
    """Per-category lists of strings flattened into one array for vectorised sampling."""

    def __init__(self, lists):
        lens = np.array([len(x) for x in lists], dtype=np.int64)
        self.len = np.maximum(lens, 1)
        flat = []
        for x in lists:
            flat.extend(x if len(x) else [""])
        self.tokens = np.array(flat, dtype=object)
        self.off = np.concatenate([[0], np.cumsum(self.len)[:-1]])

    def sample(self, rng, cats, skew=1.0):
        u = rng.random(len(cats))
        if skew != 1.0:
            u = u ** skew
        idx = self.off[cats] + np.minimum((u * self.len[cats]).astype(np.int64), self.len[cats] - 1)
        return self.tokens[idx]


class World:
    """Fixed vocabulary of the synthetic receipts (built from WORLD_SEED)."""

    def __init__(self, n_own_known=6, n_own_hidden=4, n_fam_known=3, n_fam_hidden=2,
                 n_twin_known=3, n_twin_hidden=2):
        rng = np.random.default_rng(WORLD_SEED)
        self.n_classes = N_CLASSES
        used: set[str] = set()
        for c in CATEGORIES:
            for h in c["heads"]:
                used.update(h.split())

        def brand():
            while True:
                r = rng.random()
                if r < 0.55:
                    n = int(rng.integers(2, 4))
                    s = "".join(rng.choice(list(_CONS)) + rng.choice(list(_VOWELS)) for _ in range(n))
                    if rng.random() < 0.4:
                        s += rng.choice(["Н", "В", "ЕЦ", "ОВО", "ИНО", "ЕЛЬ", "КА", "ЬЕ", "ОФФ", "ИЯ"])
                elif r < 0.8:
                    n = int(rng.integers(2, 4))
                    s = "".join(rng.choice(list(_LAT_CONS)) + rng.choice(list(_LAT_VOW)) for _ in range(n))
                    if rng.random() < 0.4:
                        s += rng.choice(["X", "S", "N", "R", "LLE", "TTO"])
                else:
                    s = rng.choice(_ADJ) + " " + rng.choice(_NOUN)
                if s not in used:
                    used.add(s)
                    return s

        fams = sorted({c["family"] for c in CATEGORIES})
        fam_known = {f: [brand() for _ in range(n_fam_known)] for f in fams}
        fam_hidden = {f: [brand() for _ in range(n_fam_hidden)] for f in fams}
        idx_of = {c["name"]: i for i, c in enumerate(CATEGORIES)}
        twin_known = [[] for _ in CATEGORIES]
        twin_hidden = [[] for _ in CATEGORIES]
        for group in _TWINS:
            k = [brand() for _ in range(n_twin_known)]
            h = [brand() for _ in range(n_twin_hidden)]
            for name in group:
                twin_known[idx_of[name]] += k
                twin_hidden[idx_of[name]] += h
        self.twins = [[] for _ in CATEGORIES]
        for group in _TWINS:
            for a in group:
                self.twins[idx_of[a]] = [idx_of[b] for b in group if b != a]
        fam_members: dict[str, list[int]] = {}
        for i, c in enumerate(CATEGORIES):
            fam_members.setdefault(c["family"], []).append(i)
        self.family_of = [c["family"] for c in CATEGORIES]
        self.family_members = [fam_members[c["family"]] for c in CATEGORIES]

        brands_known, brands_hidden = [], []
        heads_known, heads_all = [], []
        head_full, head_pref, head_skel = [], [], []
        descs, qtys, pcts = [], [], []
        self.hidden_heads: list[list[str]] = []
        for i, c in enumerate(CATEGORIES):
            own_k = [brand() for _ in range(n_own_known)]
            own_h = [brand() for _ in range(n_own_hidden)]
            brands_known.append(own_k + twin_known[i] + fam_known[c["family"]])
            brands_hidden.append(own_h + twin_hidden[i] + fam_hidden[c["family"]])
            hs = c["heads"]
            n_hidden = 0 if len(hs) < 4 else (1 if len(hs) < 7 else 2)
            hidden = set(rng.choice(np.arange(1, len(hs)), size=n_hidden, replace=False).tolist())
            ids_k, ids_a = [], []
            for j, h in enumerate(hs):
                hid = len(head_full)
                head_full.append(h)
                words = h.split()
                pref = " ".join(_prefix_abbr(w, rng) for w in words)
                if rng.random() < 0.5:
                    pref = pref.replace(". ", ".")
                head_pref.append(pref)
                head_skel.append(" ".join(_skeleton(w) for w in words))
                ids_a.append(hid)
                if j not in hidden:
                    ids_k.append(hid)
            self.hidden_heads.append([hs[j] for j in sorted(hidden)])
            heads_known.append(ids_k)
            heads_all.append(ids_a)
            d = []
            for x in c["descs"]:
                d += _FLAVOURS.split(";") if x == "@FLAV" else [x]
            d += _FAMILY_DESCS[c["family"]].split(";")
            descs.append(d)
            q = []
            for p in c["qty"]:
                q += _qty_pool(p)
            qtys.append(q)
            pcts.append(_pct_pool(c["pct"]) if c["pct"] else [])

        self.brands_known = brands_known
        self.brands_hidden = brands_hidden
        self.head_full = np.array(head_full, dtype=object)
        self.head_pref = np.array(head_pref, dtype=object)
        self.head_skel = np.array(head_skel, dtype=object)
        self.has_pct = np.array([len(p) > 0 for p in pcts])

        self._brand_known = _Pool(brands_known)
        self._brand_hidden = _Pool(brands_hidden)
        self._brand_all = _Pool([a + b for a, b in zip(brands_known, brands_hidden)])
        self._head_known = _Pool([np.array(x, dtype=object) for x in heads_known])
        self._head_hidden = _Pool([[h for h in a if h not in k] or k
                                   for a, k in zip(heads_all, heads_known)])
        self._head_all = _Pool(heads_all)
        self._desc = _Pool(descs)
        self._qty = _Pool(qtys)
        self._pct = _Pool(pcts)
        self._extra = np.array(_EXTRAS, dtype=object)
        self._generic = np.array(_GENERIC_HEADS, dtype=object)

    # ------------------------------------------------------------------ sampling
    def generate(self, cats, mode, rng, p_hidden_brand=0.5, p_hidden_head=0.25, p_skel_eval=0.2,
                 p_generic=0.02, p_typo=0.04):
        """Names for categories ``cats`` (int array).

        mode: 'train' (only known vocabulary), 'eval' (hidden vocabulary with the given
        probabilities) or 'unsup' (all vocabulary, uniformly).
        """
        if mode not in ("train", "eval", "unsup"):
            raise ValueError(f"unknown mode {mode!r}")
        cats = np.asarray(cats, dtype=np.int64)
        n = len(cats)
        obj = lambda: np.full(n, "", dtype=object)  # noqa: E731

        # head noun id, then its surface form (0 full, 1 prefix abbreviation, 2 skeleton)
        if mode == "train":
            hid = self._head_known.sample(rng, cats)
            form = rng.choice(3, size=n, p=[0.62, 0.38, 0.0])
        elif mode == "eval":
            hk = self._head_known.sample(rng, cats)
            hh = self._head_hidden.sample(rng, cats)
            hid = np.where(rng.random(n) < p_hidden_head, hh, hk)
            form = rng.choice(3, size=n, p=[0.6 * (1 - p_skel_eval), 0.4 * (1 - p_skel_eval),
                                            p_skel_eval])
        else:
            hid = self._head_all.sample(rng, cats)
            form = rng.choice(3, size=n, p=[0.55, 0.3, 0.15])
        hid = hid.astype(np.int64)
        head = np.where(form == 0, self.head_full[hid],
                        np.where(form == 1, self.head_pref[hid], self.head_skel[hid]))

        # brand
        if mode == "train":
            br = self._brand_known.sample(rng, cats, skew=1.3)
        elif mode == "eval":
            br = np.where(rng.random(n) < p_hidden_brand,
                          self._brand_hidden.sample(rng, cats, skew=1.3),
                          self._brand_known.sample(rng, cats, skew=1.3))
        else:
            br = self._brand_all.sample(rng, cats, skew=1.3)
        br = np.where(rng.random(n) < 0.75, br, "")
        # sometimes the head noun is left out (only when a brand is there to carry the name)
        head = np.where((rng.random(n) < 0.08) & (br != ""), "", head)

        desc = np.where(rng.random(n) < 0.6, self._desc.sample(rng, cats), "")
        desc2 = np.where(rng.random(n) < 0.25, self._desc.sample(rng, cats), "")
        qty = np.where(rng.random(n) < 0.7, self._qty.sample(rng, cats), "")
        pct = np.where(self.has_pct[cats] & (rng.random(n) < 0.55), self._pct.sample(rng, cats), "")
        extra = np.where(rng.random(n) < 0.25, self._extra[rng.integers(0, len(self._extra), n)], "")

        code = obj()
        m = rng.random(n) < 0.10
        k = int(m.sum())
        if k:
            kind = rng.random(k)
            nums = rng.integers(10 ** 4, 10 ** 6, k).astype(str).astype(object)
            eans = ("46" + rng.integers(10 ** 10, 10 ** 11, k).astype(str)).astype(object)
            code[m] = np.where(kind < 0.4, "АРТ." + nums, np.where(kind < 0.7, eans, nums))

        # generic, ambiguous names: "ТОВАР 12345", "НАБОР <brand>"
        g = rng.random(n) < p_generic
        kg = int(g.sum())
        if kg:
            gh = self._generic[rng.integers(0, len(self._generic), kg)]
            head[g] = gh
            desc[g] = ""
            desc2[g] = ""
            pct[g] = ""
            code[g] = rng.integers(100, 10 ** 5, kg).astype(str).astype(object)
            br[g] = np.where(rng.random(kg) < 0.5, br[g], "")

        slots = dict(H=head, B=br, D=desc, E=desc2, Q=qty, P=pct, X=extra, C=code)
        sp = {k_: np.where(v != "", " " + v, "") for k_, v in slots.items()}
        templates = ["HBDEPQXC", "HDBQPXC", "BHDPQ", "CHBDQX", "HQBDEX", "HDEPBQC"]
        t = rng.choice(len(templates), size=n, p=[0.4, 0.2, 0.15, 0.05, 0.1, 0.1])
        out = np.empty(n, dtype=object)
        for ti, tpl in enumerate(templates):
            sel = np.flatnonzero(t == ti)
            if not len(sel):
                continue
            acc = sp[tpl[0]][sel]
            for s in tpl[1:]:
                acc = acc + sp[s][sel]
            out[sel] = acc
        import pandas as pd  # local: keep module import light

        ser = pd.Series(out, dtype=object).str.lstrip()
        # glue tokens after abbreviations: "МОЛ. ПАСТ." -> "МОЛ.ПАСТ."
        glue = rng.random(n) < 0.3
        ser[glue] = ser[glue].str.replace(". ", ".", regex=False)
        # empty names (everything dropped) get the head noun back
        empty = (ser == "").to_numpy()
        if empty.any():
            ser[empty] = self.head_full[hid[empty]]
        # case noise: mostly upper, some Title, some lower
        case = rng.random(n)
        tsel = case < 0.12
        lsel = (case >= 0.12) & (case < 0.2)
        ser[tsel] = ser[tsel].str.capitalize()
        ser[lsel] = ser[lsel].str.lower()
        arr = ser.to_numpy(dtype=object, copy=True)
        # typos: swap / drop / duplicate one letter
        tsel = np.flatnonzero(rng.random(n) < p_typo)
        if len(tsel):
            ops = rng.integers(0, 3, len(tsel))
            pos = rng.random(len(tsel))
            for i, op, u in zip(tsel, ops, pos):
                s = arr[i]
                if len(s) < 4:
                    continue
                j = int(u * (len(s) - 2)) + 1
                if op == 0:
                    s = s[:j - 1] + s[j] + s[j - 1] + s[j + 1:]
                elif op == 1:
                    s = s[:j] + s[j + 1:]
                else:
                    s = s[:j] + s[j] + s[j:]
                arr[i] = s
        return arr


@functools.lru_cache(maxsize=1)
def get_world() -> World:
    return World()
