"""Каталог типичных ошибок студентов: доказательство того, что проверки tests.py их ловят.

Каждая запись — реалистичная ошибка в эталонном решении (ячейки ноутбука с тегом `defs`),
заданная заплатками `(old, new)` на исходный текст этих ячеек (см. coursekit.notebook.defs_source:
каждый `old` должен встречаться в тексте ровно один раз), и проверка `tests.test_*`, которая
обязана её поймать. Все ошибки — настоящие изменения поведения, а не переименования.

Используется в tests/test_checks_solution.py (каждая ошибка поймана) и в
bench/bug_catalogue_report.py (таблица и доля пойманных).

Если после правки ноутбука текст заплатки больше не встречается, тест назовёт запись: обновите
её `old` по новому тексту решения.
"""
import time
from dataclasses import dataclass
from pathlib import Path

from coursekit.notebook import load_defs


@dataclass(frozen=True)
class Bug:
    id: str            # короткое уникальное имя
    check: str         # проверка tests.test_*, которая должна поймать ошибку
    description: str   # что сделал студент
    patches: tuple     # ((old, new), ...) на текст ячеек defs


def _bug(id, check, description, *patches):
    return Bug(id, check, description, tuple(patches))


BUGS = [
    # --- WordpieceTokenizer -------------------------------------------------------------------
    _bug('tok_vocab_file', 'test_tokenizer',
         'словарь передан как vocab_file= (transformers 5.x молча берёт 5 специальных токенов)',
         ('vocab=str(vocab_path), do_lower_case', 'vocab_file=str(vocab_path), do_lower_case')),
    _bug('tok_special_order', 'test_tokenizer',
         'специальные токены в другом порядке, [PAD] не нулевой',
         ("SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']",
          "SPECIAL_TOKENS = ['[UNK]', '[CLS]', '[SEP]', '[PAD]', '[MASK]']")),
    _bug('tok_add_special_tokens', 'test_tokenizer',
         '__call__ добавляет [CLS] и [SEP] (add_special_tokens=True)',
         ('return self._tokenizer.encode(text, add_special_tokens=False)',
          'return self._tokenizer.encode(text, add_special_tokens=True)')),
    _bug('tok_no_lowercase', 'test_tokenizer',
         'нормализатор не приводит текст к нижнему регистру',
         ('BertNormalizer(\n            clean_text=clean_text, strip_accents=strip_accents, lowercase=lowercase\n',
          'BertNormalizer(\n            clean_text=clean_text, strip_accents=strip_accents, lowercase=False\n')),
    _bug('tok_no_strip_accents', 'test_tokenizer',
         'нормализатор не удаляет диакритику',
         ('BertNormalizer(\n            clean_text=clean_text, strip_accents=strip_accents, lowercase=lowercase\n',
          'BertNormalizer(\n            clean_text=clean_text, strip_accents=False, lowercase=lowercase\n')),
    _bug('tok_no_clean_text', 'test_tokenizer',
         'нормализатор не удаляет управляющие символы',
         ('BertNormalizer(\n            clean_text=clean_text, strip_accents=strip_accents, lowercase=lowercase\n',
          'BertNormalizer(\n            clean_text=False, strip_accents=strip_accents, lowercase=lowercase\n')),

    # --- PretrainDataset ----------------------------------------------------------------------
    _bug('ds_no_swap', 'test_dataset',
         'permuted выставляется, но сегменты не меняются местами',
         ('        if permuted:\n            left, right = right, left\n', '')),
    _bug('ds_always_swap', 'test_dataset',
         'сегменты переставляются всегда',
         ('permuted = int(random.random() < self._permute_prob)', 'permuted = 1')),
    _bug('ds_label_inverted', 'test_dataset',
         'метка SOP перевёрнута: сегменты меняются, когда permuted = 0',
         ('        if permuted:\n            left, right = right, left\n',
          '        if not permuted:\n            left, right = right, left\n')),
    _bug('ds_prob_inverted', 'test_dataset',
         'перестановка с вероятностью 1 - permute_prob',
         ('permuted = int(random.random() < self._permute_prob)',
          'permuted = int(random.random() >= self._permute_prob)')),
    _bug('ds_permute_prob_ignored', 'test_dataset',
         'permute_prob не используется, всегда 0.5',
         ('permuted = int(random.random() < self._permute_prob)', 'permuted = int(random.random() < 0.5)')),
    _bug('ds_no_maxlen', 'test_dataset',
         'окно не ограничено maxlen: берётся весь текст',
         ('length = min(len(ids), self._maxlen)', 'length = len(ids)')),
    _bug('ds_minlen_strict', 'test_dataset',
         'фильтр minlen строгий (> вместо >=)',
         ('if len(ids) >= minlen]', 'if len(ids) > minlen]')),
    _bug('ds_minlen_ignored', 'test_dataset',
         'короткие тексты не отбрасываются',
         ('if len(ids) >= minlen]', ']')),
    _bug('ds_window_at_start', 'test_dataset',
         'окно всегда берётся с начала текста',
         ('start = random.randint(0, len(ids) - length)', 'start = 0')),
    _bug('ds_window_exclusive_end', 'test_dataset',
         'последнее возможное начало окна не выбирается никогда (граница как у randrange)',
         ('start = random.randint(0, len(ids) - length)',
          'start = random.randint(0, max(len(ids) - length - 1, 0))')),
    _bug('ds_split_random', 'test_dataset',
         'окно режется в случайном месте, а не пополам',
         ('left, right = window[:length // 2], window[length // 2:]',
          'cut = random.randint(1, length - 1)\n        left, right = window[:cut], window[cut:]')),
    _bug('ds_token_types_shifted', 'test_dataset',
         'первый [SEP] получил сегмент 1',
         ('[0] * (len(left) + 2) + [1] * (len(right) + 1)', '[0] * (len(left) + 1) + [1] * (len(right) + 2)')),
    _bug('ds_no_cls', 'test_dataset',
         'нет [CLS] в начале',
         ('[cls_id, *left, sep_id, *right, sep_id]', '[*left, sep_id, *right, sep_id]'),
         ('[0] * (len(left) + 2) + [1] * (len(right) + 1)', '[0] * (len(left) + 1) + [1] * (len(right) + 1)')),
    _bug('ds_presort_descending', 'test_dataset',
         'presort сортирует по убыванию длины',
         ('self._corpus.sort(key=len)', 'self._corpus.sort(key=len, reverse=True)')),
    _bug('ds_set_maxlen_ignored', 'test_dataset',
         '__getitem__ читает копию maxlen, которую set_maxlen не меняет',
         ('        self._maxlen = maxlen\n        self._permute_prob = permute_prob\n',
          '        self._maxlen = maxlen\n        self._window = maxlen\n        self._permute_prob = permute_prob\n'),
         ('length = min(len(ids), self._maxlen)', 'length = min(len(ids), self._window)')),
    _bug('ds_specials_in_text', 'test_dataset',
         'тексты токенизированы со специальными токенами (add_special_tokens=True)',
         ('encoded = tokenizer.encode_batch(list(corpus))',
          'encoded = [np.array(tokenizer._tokenizer.encode(t), dtype=np.int32) for t in corpus]')),

    _bug('ds_int32', 'test_dataset',
         'input_ids и token_type_ids типа int32 (как из encode_batch): потеря MLM потом упадёт',
         ('input_ids = torch.tensor([cls_id, *left, sep_id, *right, sep_id], dtype=torch.long)',
          'input_ids = torch.tensor([cls_id, *left, sep_id, *right, sep_id], dtype=torch.int32)'),
         ('token_type_ids = torch.tensor([0] * (len(left) + 2) + [1] * (len(right) + 1), dtype=torch.long)',
          'token_type_ids = torch.tensor([0] * (len(left) + 2) + [1] * (len(right) + 1), dtype=torch.int32)')),

    # --- Collator -----------------------------------------------------------------------------
    _bug('col_mask_specials', 'test_collator',
         'целями могут стать [CLS], [SEP] и паддинг',
         ('maskable = ~torch.isin(input_ids, self._special_ids)',
          'maskable = torch.ones_like(input_ids, dtype=torch.bool)')),
    _bug('col_mask_padding', 'test_collator',
         'исключены только [CLS] и [SEP], паддинг может стать целью',
         ('maskable = ~torch.isin(input_ids, self._special_ids)',
          'maskable = (input_ids != self._tokenizer.cls_token_id) & (input_ids != self._tokenizer.sep_token_id)')),
    _bug('col_always_mask', 'test_collator',
         'все цели заменяются на [MASK] (нет 10% случайных / 10% без изменений)',
         ('to_mask = targets & (action >= self._random_prob + self._keep_unchanged_prob)', 'to_mask = targets')),
    _bug('col_mask_prob_fixed', 'test_collator',
         'вероятность выбора цели зашита как 0.15, mask_prob не используется',
         ('(torch.rand(input_ids.shape) < self._mask_prob)', '(torch.rand(input_ids.shape) < 0.15)')),
    _bug('col_labels_everywhere', 'test_collator',
         'labels равны input_ids на всех позициях (нет non_target_idx)',
         ('labels = torch.where(targets, input_ids, self._non_target_idx)', 'labels = input_ids.clone()')),
    _bug('col_labels_after_corruption', 'test_collator',
         'labels берутся из уже испорченных input_ids',
         ('        labels = torch.where(targets, input_ids, self._non_target_idx)\n', ''),
         ('        input_ids = torch.where(to_mask, self._tokenizer.mask_token_id, input_ids)\n',
          '        input_ids = torch.where(to_mask, self._tokenizer.mask_token_id, input_ids)\n'
          '        labels = torch.where(targets, input_ids, self._non_target_idx)\n')),
    _bug('col_non_target_fixed', 'test_collator',
         'non_target_idx зашит как -100',
         ('labels = torch.where(targets, input_ids, self._non_target_idx)',
          'labels = torch.where(targets, input_ids, -100)')),
    _bug('col_random_any_token', 'test_collator',
         'случайная замена может дать специальный токен',
         ('low=self._num_special, high=self._tokenizer.vocab_size', 'low=0, high=self._tokenizer.vocab_size')),
    _bug('col_random_keep_swapped', 'test_collator',
         'перепутаны random_prob и keep_unchanged_prob',
         ('to_random = targets & (action < self._random_prob)',
          'to_random = targets & (action < self._keep_unchanged_prob)')),
    _bug('col_independent_draws', 'test_collator',
         '[MASK] и случайная замена выбираются независимо: [MASK] затирает часть случайных замен',
         ('to_random = targets & (action < self._random_prob)',
          'to_random = targets & (torch.rand(input_ids.shape) < self._random_prob)'),
         ('to_mask = targets & (action >= self._random_prob + self._keep_unchanged_prob)',
          'to_mask = targets & (torch.rand(input_ids.shape) < 1 - self._random_prob - self._keep_unchanged_prob)')),
    _bug('col_mask_id_103', 'test_collator',
         'индекс [MASK] взят из оригинального BERT (103), а не из токенизатора',
         ('torch.where(to_mask, self._tokenizer.mask_token_id, input_ids)', 'torch.where(to_mask, 103, input_ids)')),

    # --- init_layer ---------------------------------------------------------------------------
    _bug('init_normal', 'test_init_layer',
         'обычное нормальное распределение вместо усечённого',
         ('nn.init.trunc_normal_(\n            layer.weight, std=initializer_range, a=-2 * initializer_range, '
          'b=2 * initializer_range\n        )',
          'nn.init.normal_(layer.weight, std=initializer_range)')),
    _bug('init_default_bounds', 'test_init_layer',
         'trunc_normal_ без a, b: границы по умолчанию ±2 (абсолютные), а не ±2σ',
         ('nn.init.trunc_normal_(\n            layer.weight, std=initializer_range, a=-2 * initializer_range, '
          'b=2 * initializer_range\n        )',
          'nn.init.trunc_normal_(layer.weight, std=initializer_range)')),
    _bug('init_std_fixed', 'test_init_layer',
         'std зашит как 0.02, initializer_range не используется',
         ('nn.init.trunc_normal_(\n            layer.weight, std=initializer_range, a=-2 * initializer_range, '
          'b=2 * initializer_range\n        )',
          'nn.init.trunc_normal_(layer.weight, std=0.02, a=-0.04, b=0.04)')),
    _bug('init_uniform', 'test_init_layer',
         'равномерное распределение на [-2σ, 2σ]',
         ('nn.init.trunc_normal_(\n            layer.weight, std=initializer_range, a=-2 * initializer_range, '
          'b=2 * initializer_range\n        )',
          'nn.init.uniform_(layer.weight, -2 * initializer_range, 2 * initializer_range)')),
    _bug('init_bias_kept', 'test_init_layer',
         'bias не обнуляется',
         ("        if zero_out_bias and getattr(layer, 'bias', None) is not None:\n            layer.bias.zero_()\n",
          '')),
    _bug('init_zero_out_bias_ignored', 'test_init_layer',
         'bias обнуляется даже при zero_out_bias=False',
         ("if zero_out_bias and getattr(layer, 'bias', None) is not None:",
          "if getattr(layer, 'bias', None) is not None:")),

    # --- BertEmbeddings -----------------------------------------------------------------------
    _bug('emb_no_position', 'test_bert_embeddings',
         'нет позиционных эмбеддингов в сумме',
         ('            + self._position_embeddings(positions)[None]      # 1 x S x H\n', '')),
    _bug('emb_no_token_type', 'test_bert_embeddings',
         'нет сегментных эмбеддингов в сумме',
         ('            + self._token_type_embeddings(token_type_ids)     # B x S x H\n', '')),
    _bug('emb_no_layernorm', 'test_bert_embeddings',
         'LayerNorm создан, но не применяется',
         ('return self._dropout(self._layer_norm(embeddings))', 'return self._dropout(embeddings)')),
    _bug('emb_no_dropout', 'test_bert_embeddings',
         'dropout создан, но не применяется',
         ('return self._dropout(self._layer_norm(embeddings))', 'return self._layer_norm(embeddings)')),
    _bug('emb_dropout_before_ln', 'test_bert_embeddings',
         'dropout до LayerNorm, а не после',
         ('return self._dropout(self._layer_norm(embeddings))', 'return self._layer_norm(self._dropout(embeddings))')),
    _bug('emb_positions_from_1', 'test_bert_embeddings',
         'позиции нумеруются с 1',
         ('positions = torch.arange(input_ids.shape[1], device=input_ids.device)',
          'positions = torch.arange(1, input_ids.shape[1] + 1, device=input_ids.device)')),
    _bug('emb_eps_ignored', 'test_bert_embeddings',
         'eps не передан в LayerNorm',
         ('        self._layer_norm = nn.LayerNorm(hidden_size, eps=eps)\n        self._dropout = nn.Dropout(dropout_prob)\n'
          '        for embeddings',
          '        self._layer_norm = nn.LayerNorm(hidden_size)\n        self._dropout = nn.Dropout(dropout_prob)\n'
          '        for embeddings')),
    _bug('emb_no_init', 'test_bert_embeddings',
         'эмбеддинги не инициализированы через init_layer (остаётся N(0, 1))',
         ('        for embeddings in (self._token_embeddings, self._position_embeddings, self._token_type_embeddings):\n'
          '            init_layer(embeddings, zero_out_bias=False)\n', '')),

    # --- MultiHeadSelfAttention ---------------------------------------------------------------
    _bug('att_no_scaling', 'test_attention',
         'нет деления scores на sqrt(d)',
         ('scores = query @ key.transpose(-2, -1) / math.sqrt(d)', 'scores = query @ key.transpose(-2, -1)')),
    _bug('att_scale_by_d', 'test_attention',
         'деление на d вместо sqrt(d)',
         ('scores = query @ key.transpose(-2, -1) / math.sqrt(d)', 'scores = query @ key.transpose(-2, -1) / d')),
    _bug('att_scale_by_hidden', 'test_attention',
         'деление на sqrt(hidden_size) вместо sqrt(d) одной головы',
         ('scores = query @ key.transpose(-2, -1) / math.sqrt(d)',
          'scores = query @ key.transpose(-2, -1) / math.sqrt(hidden_size)')),
    _bug('att_mask_no_head_axis', 'test_attention',
         'маска B x S x S без оси голов: masked_fill не согласует формы с оценками B x heads x S x S',
         ('attention_mask[:, None] == 0, torch.finfo(scores.dtype).min)', 'attention_mask == 0, torch.finfo(scores.dtype).min)')),
    _bug('att_no_mask', 'test_attention',
         'маска паддинга не применяется',
         ('        if attention_mask is not None:\n'
          '            scores = scores.masked_fill(attention_mask[:, None] == 0, torch.finfo(scores.dtype).min)\n', '')),
    _bug('att_mask_on_queries', 'test_attention',
         'маска применена к запросам (строкам), а не к ключам',
         ('attention_mask[:, None] == 0', 'attention_mask.transpose(1, 2)[:, None] == 0')),
    _bug('att_mask_inverted', 'test_attention',
         'маскируются настоящие токены, а не паддинг',
         ('attention_mask[:, None] == 0', 'attention_mask[:, None] == 1')),
    _bug('att_mask_fill_positive', 'test_attention',
         'masked_fill значением 1e-9 вместо -1e9',
         ('attention_mask[:, None] == 0, torch.finfo(scores.dtype).min)', 'attention_mask[:, None] == 0, 1e-9)')),
    _bug('att_mask_after_softmax', 'test_attention',
         'маска обнуляет вероятности после softmax без перенормировки',
         ('        if attention_mask is not None:\n'
          '            scores = scores.masked_fill(attention_mask[:, None] == 0, torch.finfo(scores.dtype).min)\n', ''),
         ('probs = self._attention_dropout(scores.softmax(dim=-1))  # softmax по ключам',
          'probs = scores.softmax(dim=-1)\n'
          '        if attention_mask is not None:\n'
          '            probs = probs.masked_fill(attention_mask[:, None] == 0, 0.)\n'
          '        probs = self._attention_dropout(probs)')),
    _bug('att_softmax_wrong_dim', 'test_attention',
         'softmax по запросам (dim=-2), а не по ключам',
         ('scores.softmax(dim=-1)', 'scores.softmax(dim=-2)')),
    _bug('att_split_heads_view', 'test_attention',
         'головы выделены через reshape(B, heads, S, d) без transpose',
         ('t.view(batch_size, seqlen, heads, d).transpose(1, 2)', 't.reshape(batch_size, heads, seqlen, d)')),
    _bug('att_merge_heads_reshape', 'test_attention',
         'головы склеены reshape без transpose',
         ('context = context.transpose(1, 2).reshape(batch_size, seqlen, hidden_size)',
          'context = context.reshape(batch_size, seqlen, hidden_size)')),
    _bug('att_single_head', 'test_attention',
         'num_attention_heads игнорируется: одна голова размерности hidden_size',
         ('heads, d = self._num_heads, self.size_per_head', 'heads, d = 1, hidden_size')),
    _bug('att_no_output_projection', 'test_attention',
         'нет выходной проекции W_o',
         ('self._dropout(self._output(context))', 'self._dropout(context)')),
    _bug('att_no_residual', 'test_attention',
         'нет остаточной связи',
         ('return self._layer_norm(embeddings + self._dropout(self._output(context)))',
          'return self._layer_norm(self._dropout(self._output(context)))')),
    _bug('att_pre_ln', 'test_attention',
         'pre-LN: LayerNorm до внимания, а не после сложения',
         ('query, key, value = self._qkv(embeddings).chunk(3, dim=-1)',
          'query, key, value = self._qkv(self._layer_norm(embeddings)).chunk(3, dim=-1)'),
         ('return self._layer_norm(embeddings + self._dropout(self._output(context)))',
          'return embeddings + self._dropout(self._output(context))')),
    _bug('att_no_probs_dropout', 'test_attention',
         'dropout вероятностей внимания не применяется',
         ('probs = self._attention_dropout(scores.softmax(dim=-1))', 'probs = scores.softmax(dim=-1)')),
    _bug('att_dropout_on_scores', 'test_attention',
         'dropout на scores до softmax',
         ('probs = self._attention_dropout(scores.softmax(dim=-1))',
          'probs = self._attention_dropout(scores).softmax(dim=-1)')),
    _bug('att_probs_dropout_in_eval', 'test_attention',
         'dropout вероятностей работает и в режиме eval (F.dropout с training=True)',
         ('probs = self._attention_dropout(scores.softmax(dim=-1))',
          'probs = nn.functional.dropout(scores.softmax(dim=-1), p=self._attention_dropout.p, training=True)')),
    _bug('att_output_dropout_in_eval', 'test_attention',
         'выходной dropout работает и в режиме eval',
         ('self._dropout(self._output(context))',
          'nn.functional.dropout(self._output(context), p=self._dropout.p, training=True)')),
    _bug('att_dropout_after_ln', 'test_attention',
         'dropout применён после LayerNorm',
         ('return self._layer_norm(embeddings + self._dropout(self._output(context)))',
          'return self._dropout(self._layer_norm(embeddings + self._output(context)))')),
    _bug('att_eps_ignored', 'test_attention',
         'eps не передан в LayerNorm',
         ('        self._layer_norm = nn.LayerNorm(hidden_size, eps=eps)\n        init_layer(self._qkv)',
          '        self._layer_norm = nn.LayerNorm(hidden_size)\n        init_layer(self._qkv)')),
    _bug('att_no_init', 'test_attention',
         'линейные слои не инициализированы через init_layer',
         ('        init_layer(self._qkv)\n        init_layer(self._output)\n', '')),

    # --- FeedForward --------------------------------------------------------------------------
    _bug('ff_no_activation', 'test_feedforward',
         'нет функции активации между линейными слоями',
         ('hidden = self._shrink(self._activation(self._expand(embeddings)))',
          'hidden = self._shrink(self._expand(embeddings))')),
    _bug('ff_always_relu', 'test_feedforward',
         'act_func игнорируется: всегда ReLU (GELU не используется)',
         ('self._activation = make_activation(act_func)', 'self._activation = nn.ReLU()')),
    _bug('ff_activation_after_output', 'test_feedforward',
         'активация после второго линейного слоя',
         ('hidden = self._shrink(self._activation(self._expand(embeddings)))',
          'hidden = self._activation(self._shrink(self._expand(embeddings)))')),
    _bug('ff_no_residual', 'test_feedforward',
         'нет остаточной связи',
         ('return self._layer_norm(embeddings + self._dropout(hidden))', 'return self._layer_norm(self._dropout(hidden))')),
    _bug('ff_pre_ln', 'test_feedforward',
         'pre-LN: LayerNorm до полносвязных слоёв',
         ('hidden = self._shrink(self._activation(self._expand(embeddings)))',
          'hidden = self._shrink(self._activation(self._expand(self._layer_norm(embeddings))))'),
         ('return self._layer_norm(embeddings + self._dropout(hidden))', 'return embeddings + self._dropout(hidden)')),
    _bug('ff_no_dropout', 'test_feedforward',
         'dropout не применяется',
         ('return self._layer_norm(embeddings + self._dropout(hidden))', 'return self._layer_norm(embeddings + hidden)')),
    _bug('ff_dropout_in_eval', 'test_feedforward',
         'dropout работает и в режиме eval',
         ('return self._layer_norm(embeddings + self._dropout(hidden))',
          'return self._layer_norm(embeddings + nn.functional.dropout(hidden, p=self._dropout.p, training=True))')),
    _bug('ff_dropout_after_ln', 'test_feedforward',
         'dropout применён после LayerNorm',
         ('return self._layer_norm(embeddings + self._dropout(hidden))',
          'return self._dropout(self._layer_norm(embeddings + hidden))')),
    _bug('ff_eps_ignored', 'test_feedforward',
         'eps не передан в LayerNorm',
         ('        self._layer_norm = nn.LayerNorm(hidden_size, eps=eps)\n        init_layer(self._expand)',
          '        self._layer_norm = nn.LayerNorm(hidden_size)\n        init_layer(self._expand)')),

    # --- BertLayer ----------------------------------------------------------------------------
    _bug('layer_ff_first', 'test_bert_layer',
         'полносвязный блок до внимания',
         ('        x = self._multihead_attention(x, attention_mask)\n        x = self._feedforward(x)\n',
          '        x = self._feedforward(x)\n        x = self._multihead_attention(x, attention_mask)\n')),
    _bug('layer_mask_dropped', 'test_bert_layer',
         'маска не передаётся во внимание',
         ('x = self._multihead_attention(x, attention_mask)', 'x = self._multihead_attention(x, None)')),
    _bug('layer_act_not_passed', 'test_bert_layer',
         'act_func не передан в FeedForward',
         ('            act_func=act_func,\n            eps=eps,\n            dropout_prob=dropout_prob\n',
          '            eps=eps,\n            dropout_prob=dropout_prob\n')),
    _bug('layer_att_eps_not_passed', 'test_bert_layer',
         'eps не передан в MultiHeadSelfAttention',
         ('            dropout_prob=dropout_prob,\n            eps=eps\n        )\n        self._feedforward',
          '            dropout_prob=dropout_prob,\n        )\n        self._feedforward')),
    _bug('layer_ff_eps_not_passed', 'test_bert_layer',
         'eps не передан в FeedForward',
         ('            act_func=act_func,\n            eps=eps,\n            dropout_prob=dropout_prob\n',
          '            act_func=act_func,\n            dropout_prob=dropout_prob\n')),
    _bug('layer_ff_dropout_not_passed', 'test_bert_layer',
         'dropout_prob не передан в FeedForward',
         ('            act_func=act_func,\n            eps=eps,\n            dropout_prob=dropout_prob\n',
          '            act_func=act_func,\n            eps=eps,\n')),
    _bug('layer_attention_probs_dropout_not_passed', 'test_bert_layer',
         'attention_probs_dropout_prob не передан во внимание',
         ('            attention_probs_dropout_prob=attention_probs_dropout_prob,\n            dropout_prob=dropout_prob,\n',
          '            dropout_prob=dropout_prob,\n')),

    # --- Bert ---------------------------------------------------------------------------------
    _bug('bert_shared_layer', 'test_bert',
         'один и тот же слой повторён num_hidden_layers раз ([layer] * n)',
         ('            for _ in range(num_hidden_layers)\n        ])', '        ] * num_hidden_layers)')),
    _bug('bert_mask_not_expanded', 'test_bert',
         'в слои передана маска B x S без expand_mask',
         ('hidden_states = layer(hidden_states, mask)', 'hidden_states = layer(hidden_states, attention_mask)')),
    _bug('bert_token_types_dropped', 'test_bert',
         'token_type_ids не передаются в эмбеддинги',
         ('hidden_states = self._embeddings(x, token_type_ids)', 'hidden_states = self._embeddings(x)')),
    _bug('bert_no_default_mask', 'test_bert',
         'attention_mask=None не обрабатывается',
         ('        if attention_mask is None:\n            attention_mask = torch.ones_like(x)\n', '')),
    _bug('bert_input_dropout_not_passed', 'test_bert',
         'input_dropout_prob не передан в эмбеддинги',
         ('vocab_size, hidden_size, max_seqlen, dropout_prob=input_dropout_prob, eps=eps',
          'vocab_size, hidden_size, max_seqlen, eps=eps')),
    _bug('bert_dropout_not_passed', 'test_bert',
         'dropout_prob не передан в слои',
         ('                dropout_prob=dropout_prob,\n                attention_probs_dropout_prob',
          '                attention_probs_dropout_prob')),
    _bug('bert_act_not_passed', 'test_bert',
         'act_func не передан в слои',
         ('                act_func=act_func, eps=eps,\n', '                eps=eps,\n')),
    _bug('bert_eps_not_passed', 'test_bert',
         'eps не передан в слои',
         ('                act_func=act_func, eps=eps,\n', '                act_func=act_func,\n')),
    _bug('bert_emb_eps_not_passed', 'test_bert',
         'eps не передан в эмбеддинги',
         ('dropout_prob=input_dropout_prob, eps=eps\n', 'dropout_prob=input_dropout_prob\n')),

    # --- MlmHead ------------------------------------------------------------------------------
    _bug('mlm_eps_ignored', 'test_mlm_head',
         'eps не передан в LayerNorm головы',
         ('        self._activation = make_activation(hidden_act)\n        self._layer_norm = nn.LayerNorm(hidden_size, eps=eps)',
          '        self._activation = make_activation(hidden_act)\n        self._layer_norm = nn.LayerNorm(hidden_size)')),
    _bug('mlm_weights_copied', 'test_mlm_head',
         'матрица эмбеддингов скопирована в декодер, а не связана',
         ('self._decoder.weight = input_embeddings.weight  # один тензор на двоих',
          'self._decoder.weight.data.copy_(input_embeddings.weight.data)')),
    _bug('mlm_weights_cloned', 'test_mlm_head',
         'декодер получил nn.Parameter(weight.clone()): отдельная копия',
         ('self._decoder.weight = input_embeddings.weight  # один тензор на двоих',
          'self._decoder.weight = nn.Parameter(input_embeddings.weight.detach().clone())')),
    _bug('mlm_loss_over_all_positions', 'test_mlm_head',
         'потеря усредняется по всем позициям, а не по целям',
         ('return self._criterion(logits.float(), labels[targets])',
          "return nn.functional.cross_entropy(logits.float(), labels[targets], reduction='sum') / labels.numel()")),
    _bug('mlm_ignore_index_hardcoded', 'test_mlm_head',
         'потеря на всех позициях с CrossEntropyLoss() (ignore_index=-100 зашит)',
         ('logits = self._decoder(hidden_states[targets])  # T x V, только целевые позиции',
          'logits = self._decoder(hidden_states).flatten(0, 1)'),
         ('return self._criterion(logits.float(), labels[targets])',
          'return nn.CrossEntropyLoss()(logits.float(), labels.flatten())')),
    _bug('mlm_no_layernorm', 'test_mlm_head',
         'нет LayerNorm в преобразовании перед декодером',
         ('hidden_states = self._layer_norm(self._activation(self._dense(hidden_states)))',
          'hidden_states = self._activation(self._dense(hidden_states))')),
    _bug('mlm_no_transform', 'test_mlm_head',
         'декодер применяется прямо к выходу Bert (нет dense + act + LN)',
         ('        hidden_states = self._layer_norm(self._activation(self._dense(hidden_states)))\n', '')),
    _bug('mlm_ln_before_act', 'test_mlm_head',
         'LayerNorm до активации',
         ('hidden_states = self._layer_norm(self._activation(self._dense(hidden_states)))',
          'hidden_states = self._activation(self._layer_norm(self._dense(hidden_states)))')),
    _bug('mlm_act_fixed', 'test_mlm_head',
         'hidden_act игнорируется: всегда GELU',
         ('self._activation = make_activation(hidden_act)', 'self._activation = nn.GELU()')),
    _bug('mlm_no_decoder_bias', 'test_mlm_head',
         'у декодера нет bias',
         ('self._decoder = nn.Linear(hidden_size, vocab_size)', 'self._decoder = nn.Linear(hidden_size, vocab_size, bias=False)')),

    # --- ClassifierHead -----------------------------------------------------------------------
    _bug('cls_last_token', 'test_classifier_head',
         'берётся последний токен, а не [CLS]',
         ('hidden_states[:, self.CLS_POSITION]', 'hidden_states[:, -1]')),
    _bug('cls_mean_pooling', 'test_classifier_head',
         'среднее по токенам вместо [CLS]',
         ('hidden_states[:, self.CLS_POSITION]', 'hidden_states.mean(dim=1)')),
    _bug('cls_no_tanh', 'test_classifier_head',
         'нет tanh в pooler',
         ('pooled = self._activation(self._dense(hidden_states[:, self.CLS_POSITION]))',
          'pooled = self._dense(hidden_states[:, self.CLS_POSITION])')),
    _bug('cls_relu_pooler', 'test_classifier_head',
         'ReLU вместо tanh в pooler',
         ('self._activation = nn.Tanh()', 'self._activation = nn.ReLU()')),
    _bug('cls_no_pooler', 'test_classifier_head',
         'нет pooler: классификатор прямо на векторе [CLS]',
         ('pooled = self._activation(self._dense(hidden_states[:, self.CLS_POSITION]))',
          'pooled = hidden_states[:, self.CLS_POSITION]')),
    _bug('cls_sop_inverted', 'test_classifier_head',
         'цели SOP перевёрнуты (1 - permuted)',
         ('return self.CRITERION(logits[:, 0].float(), permuted.float())',
          'return self.CRITERION(logits[:, 0].float(), 1 - permuted.float())')),
    _bug('cls_double_sigmoid', 'test_classifier_head',
         'sigmoid перед BCEWithLogitsLoss',
         ('return self.CRITERION(logits[:, 0].float(), permuted.float())',
          'return self.CRITERION(torch.sigmoid(logits[:, 0].float()), permuted.float())')),
    _bug('cls_no_dropout', 'test_classifier_head',
         'dropout не применяется',
         ('logits = self._classifier(self._dropout(pooled))', 'logits = self._classifier(pooled)')),

    # --- BertModel ----------------------------------------------------------------------------
    _bug('model_eps_not_passed', 'test_bert_model',
         'eps не передан в Bert',
         ('            act_func=act_func,\n            eps=eps\n        )\n        self._mlm_head',
          '            act_func=act_func,\n        )\n        self._mlm_head')),
    _bug('model_mlm_eps_not_passed', 'test_bert_model',
         'eps не передан в MlmHead',
         ('            act_func,\n            eps,\n            ignore_index,\n',
          '            act_func,\n            ignore_index=ignore_index,\n')),
    _bug('model_hidden_dropout_not_passed', 'test_bert_model',
         'hidden_dropout_prob не передан в Bert',
         ('            dropout_prob=hidden_dropout_prob,\n            attention_probs_dropout_prob=attention_probs_dropout_prob,\n'
          '            act_func=act_func,\n            eps=eps\n        )\n        self._mlm_head',
          '            attention_probs_dropout_prob=attention_probs_dropout_prob,\n'
          '            act_func=act_func,\n            eps=eps\n        )\n        self._mlm_head')),
    _bug('model_attention_dropout_not_passed', 'test_bert_model',
         'attention_probs_dropout_prob не передан в Bert',
         ('            attention_probs_dropout_prob=attention_probs_dropout_prob,\n'
          '            act_func=act_func,\n            eps=eps\n        )\n        self._mlm_head',
          '            act_func=act_func,\n            eps=eps\n        )\n        self._mlm_head')),
    _bug('model_loss_sum', 'test_bert_model',
         'loss = MLM + SOP вместо 0.5·MLM + 0.5·SOP',
         ('return 0.5 * mlm_loss + 0.5 * sop_loss,', 'return mlm_loss + sop_loss,')),
    _bug('model_not_tied', 'test_bert_model',
         'MLM-голова не получила эмбеддинги токенов: своя матрица декодера',
         ('input_embeddings=self._backbone.get_token_embeddings()', 'input_embeddings=None')),
    _bug('model_token_types_dropped', 'test_bert_model',
         'token_type_ids не передаются в Bert',
         ('hidden_states = self._backbone(x, attention_mask, token_type_ids)',
          'hidden_states = self._backbone(x, attention_mask)')),
    _bug('model_mask_dropped', 'test_bert_model',
         'attention_mask не передаётся в Bert',
         ('hidden_states = self._backbone(x, attention_mask, token_type_ids)',
          'hidden_states = self._backbone(x, None, token_type_ids)')),
    _bug('model_losses_swapped', 'test_bert_model',
         'в словаре потерь перепутаны MLM и SOP',
         ("{'MLM': mlm_loss, 'SOP': sop_loss}", "{'MLM': sop_loss, 'SOP': mlm_loss}")),

    # --- get_optimizer ------------------------------------------------------------------------
    _bug('opt_decay_everything', 'test_optimizer',
         'weight decay для всех параметров, включая bias и LayerNorm',
         ("        if name.endswith('bias') or 'norm' in name.lower():\n"
          '            not_decayed_parameters.append(parameter)\n'
          '        else:\n'
          '            decayed_parameters.append(parameter)\n',
          '        decayed_parameters.append(parameter)\n')),
    _bug('opt_decay_nothing', 'test_optimizer',
         'weight decay не применяется ни к чему',
         ("        if name.endswith('bias') or 'norm' in name.lower():\n"
          '            not_decayed_parameters.append(parameter)\n'
          '        else:\n'
          '            decayed_parameters.append(parameter)\n',
          '        not_decayed_parameters.append(parameter)\n')),
    _bug('opt_bias_only', 'test_optimizer',
         'без weight decay только bias, веса LayerNorm регуляризуются',
         ("if name.endswith('bias') or 'norm' in name.lower():", "if name.endswith('bias'):")),
    _bug('opt_hf_layernorm_name', 'test_optimizer',
         "LayerNorm ищется по имени 'LayerNorm' из transformers, а слои называются иначе",
         ("if name.endswith('bias') or 'norm' in name.lower():",
          "if name.endswith('bias') or 'LayerNorm' in name:")),
    _bug('opt_groups_swapped', 'test_optimizer',
         'группы перепутаны: регуляризуются bias и LayerNorm, остальное — нет',
         ('            not_decayed_parameters.append(parameter)\n        else:\n            decayed_parameters.append(parameter)\n',
          '            decayed_parameters.append(parameter)\n        else:\n            not_decayed_parameters.append(parameter)\n')),
    _bug('opt_weight_decay_fixed', 'test_optimizer',
         'weight_decay зашит как 0.01',
         ("{'params': decayed_parameters, 'weight_decay': weight_decay}",
          "{'params': decayed_parameters, 'weight_decay': 0.01}")),

    # --- Scheduler ----------------------------------------------------------------------------
    _bug('sch_no_warmup', 'test_scheduler',
         'нет разогрева: сразу peak_lr',
         ('        if step < self._num_warmup_steps:\n'
          '            return self._init_lr + (self._peak_lr - self._init_lr) * step / self._num_warmup_steps\n', '')),
    _bug('sch_warmup_from_zero', 'test_scheduler',
         'разогрев от нуля, init_lr не используется',
         ('return self._init_lr + (self._peak_lr - self._init_lr) * step / self._num_warmup_steps',
          'return self._peak_lr * step / self._num_warmup_steps')),
    _bug('sch_one_step_ahead', 'test_scheduler',
         'off-by-one: после k вызовов step() выставлен lr(k + 1)',
         ('self._set_lr(self._lr_at(self._step))', 'self._set_lr(self._lr_at(self._step + 1))')),
    _bug('sch_init_lr_not_set', 'test_scheduler',
         'в __init__ не выставлен lr(0) = init_lr',
         ('        self._set_lr(self._lr_at(0))\n', '')),
    _bug('sch_final_lr_ignored', 'test_scheduler',
         'затухание до нуля, final_lr не используется',
         ('(self._final_lr - self._peak_lr)', '(0 - self._peak_lr)')),
    _bug('sch_decay_wrong_length', 'test_scheduler',
         'затухание растянуто на num_training_steps, а не на num_training_steps - num_warmup_steps',
         ('decay_steps = self._num_training_steps - self._num_warmup_steps', 'decay_steps = self._num_training_steps')),
    _bug('sch_no_clamp', 'test_scheduler',
         'после num_training_steps lr продолжает падать ниже final_lr',
         ('        if step < self._num_training_steps:\n            decay_steps',
          '        if step >= self._num_warmup_steps:\n            decay_steps')),
    _bug('sch_cosine', 'test_scheduler',
         'косинусное затухание вместо линейного',
         ('return self._peak_lr + (self._final_lr - self._peak_lr) * (step - self._num_warmup_steps) / decay_steps',
          'return self._final_lr + (self._peak_lr - self._final_lr) * 0.5 * '
          '(1 + math.cos(math.pi * (step - self._num_warmup_steps) / decay_steps))')),
    _bug('sch_first_group_only', 'test_scheduler',
         'lr меняется только у первой группы параметров',
         ("        for param_group in self._optimizer.param_groups:\n            param_group['lr'] = lr\n",
          "        self._optimizer.param_groups[0]['lr'] = lr\n")),

    # --- Trainer ------------------------------------------------------------------------------
    _bug('tr_no_scheduler_step', 'test_trainer',
         'scheduler.step() не вызывается',
         ('        self._scheduler.step()\n        self._optimizer.zero_grad(set_to_none=True)\n',
          '        self._optimizer.zero_grad(set_to_none=True)\n')),
    _bug('tr_scheduler_before_optimizer', 'test_trainer',
         'scheduler.step() до optimizer.step()',
         ('        self._scaler.step(self._optimizer)\n        self._scaler.update()\n        self._scheduler.step()\n',
          '        self._scheduler.step()\n        self._scaler.step(self._optimizer)\n        self._scaler.update()\n')),
    _bug('tr_no_zero_grad', 'test_trainer',
         'градиенты не обнуляются после шага',
         ('        self._scheduler.step()\n        self._optimizer.zero_grad(set_to_none=True)\n',
          '        self._scheduler.step()\n')),
    _bug('tr_zero_grad_every_batch', 'test_trainer',
         'zero_grad перед каждым backward: аккумуляция не работает',
         ('            self._backward(loss)\n            if (i + 1)',
          '            self._optimizer.zero_grad(set_to_none=True)\n            self._backward(loss)\n            if (i + 1)')),
    _bug('tr_no_accum_division', 'test_trainer',
         'loss не делится на num_accum_steps',
         ('self._scaler.scale(loss / self._num_accum_steps).backward()', 'self._scaler.scale(loss).backward()')),
    _bug('tr_step_every_batch', 'test_trainer',
         'шаг оптимизатора на каждом батче (num_accum_steps игнорируется)',
         ('if (i + 1) % self._num_accum_steps == 0:', 'if True:')),
    _bug('tr_accum_off_by_one', 'test_trainer',
         'шаг на батчах 0, k, 2k... (i % k вместо (i + 1) % k)',
         ('if (i + 1) % self._num_accum_steps == 0:', 'if i % self._num_accum_steps == 0:')),
    _bug('tr_no_clipping', 'test_trainer',
         'max_grad_norm игнорируется: градиент не обрезается',
         ("max_norm = self._max_grad_norm if self._max_grad_norm is not None else float('inf')",
          "max_norm = float('inf')")),
    _bug('tr_clip_after_step', 'test_trainer',
         'обрезка градиента после optimizer.step()',
         ('        grad_norm = torch.nn.utils.clip_grad_norm_(self._model.parameters(), max_norm)\n'
          '        self._scaler.step(self._optimizer)\n',
          '        self._scaler.step(self._optimizer)\n'
          '        grad_norm = torch.nn.utils.clip_grad_norm_(self._model.parameters(), max_norm)\n')),
    _bug('tr_mask_pad_zero', 'test_trainer',
         'маска внимания строится по индексу 0, а не по pad_token_id',
         ('attention_mask = (input_ids != self._pad_token_id).long()\n            with self._autocast():\n'
          '                loss, losses',
          'attention_mask = (input_ids != 0).long()\n            with self._autocast():\n'
          '                loss, losses')),
    _bug('tr_token_types_dropped', 'test_trainer',
         'token_type_ids не передаются в модель',
         ('self._model(input_ids, attention_mask, labels, permuted, token_type_ids)',
          'self._model(input_ids, attention_mask, labels, permuted)')),
    _bug('tr_no_train_mode', 'test_trainer',
         'модель не переводится в режим train перед обучением',
         ('        self._model.train()\n        self._optimizer.zero_grad(set_to_none=True)\n', 
          '        self._optimizer.zero_grad(set_to_none=True)\n')),

    # --- FinetuneDataset ----------------------------------------------------------------------
    _bug('fds_no_specials', 'test_finetune_dataset',
         'нет [CLS] и [SEP]',
         ('[cls_id, *ids[:maxlen].tolist(), sep_id]', 'ids[:maxlen].tolist()')),
    _bug('fds_truncate_with_specials', 'test_finetune_dataset',
         'обрезка после добавления [CLS]/[SEP]: [SEP] теряется',
         ('[cls_id, *ids[:maxlen].tolist(), sep_id]', '[cls_id, *ids.tolist(), sep_id][:maxlen]')),
    _bug('fds_truncate_minus_two', 'test_finetune_dataset',
         'maxlen считается вместе с [CLS]/[SEP] (обрезка до maxlen - 2)',
         ('[cls_id, *ids[:maxlen].tolist(), sep_id]', '[cls_id, *ids[:maxlen - 2].tolist(), sep_id]')),
    _bug('fds_no_truncation', 'test_finetune_dataset',
         'тексты не обрезаются до maxlen',
         ('[cls_id, *ids[:maxlen].tolist(), sep_id]', '[cls_id, *ids.tolist(), sep_id]')),
    _bug('fds_presort_texts_only', 'test_finetune_dataset',
         'presort сортирует тексты, но не метки',
         ('            self._targets = [self._targets[i] for i in order]\n', '')),

    # --- collate_fn ---------------------------------------------------------------------------
    _bug('cf_pad_zero', 'test_collate_fn',
         'паддинг нулями вместо pad_idx',
         ('pad_sequence(input_ids, batch_first=True, padding_value=pad_idx)',
          'pad_sequence(input_ids, batch_first=True, padding_value=0)')),
    _bug('cf_not_batch_first', 'test_collate_fn',
         'pad_sequence без batch_first: S x B',
         ('pad_sequence(input_ids, batch_first=True, padding_value=pad_idx)',
          'pad_sequence(input_ids, padding_value=pad_idx)')),
    _bug('cf_float_targets', 'test_collate_fn',
         'метки типа float',
         ('torch.tensor(targets, dtype=torch.long)', 'torch.tensor(targets, dtype=torch.float)')),

    # --- BertFinetuneModel --------------------------------------------------------------------
    _bug('ftm_eps_not_passed', 'test_finetune_model',
         'eps не передан в Bert',
         ('            act_func=act_func,\n            eps=eps\n        )\n        self._classifier_head',
          '            act_func=act_func,\n        )\n        self._classifier_head')),
    _bug('ftm_hidden_dropout_not_passed', 'test_finetune_model',
         'hidden_dropout_prob не передан в Bert (только в голову)',
         ('            dropout_prob=hidden_dropout_prob,\n            attention_probs_dropout_prob=attention_probs_dropout_prob,\n'
          '            act_func=act_func,\n            eps=eps\n        )\n        self._classifier_head',
          '            attention_probs_dropout_prob=attention_probs_dropout_prob,\n'
          '            act_func=act_func,\n            eps=eps\n        )\n        self._classifier_head')),
    _bug('ftm_mask_dropped', 'test_finetune_model',
         'attention_mask не передаётся в Bert',
         ('hidden_states = self._backbone(x, attention_mask)\n', 'hidden_states = self._backbone(x)\n')),
    _bug('ftm_num_classes_ignored', 'test_finetune_model',
         'голова с одним выходом: num_classes не передан',
         ('ClassifierHead(hidden_size, num_classes, hidden_dropout_prob)',
          'ClassifierHead(hidden_size, hidden_dropout_prob=hidden_dropout_prob)')),
    _bug('ftm_act_not_passed', 'test_finetune_model',
         'act_func не передан в Bert',
         ('            act_func=act_func,\n            eps=eps\n        )\n'
          '        self._classifier_head = ClassifierHead(hidden_size, num_classes',
          '            eps=eps\n        )\n'
          '        self._classifier_head = ClassifierHead(hidden_size, num_classes')),

    # --- load_weights -------------------------------------------------------------------------
    _bug('lw_strict', 'test_load_weights',
         'load_state_dict(strict=True): падает на лишних весах MLM-головы',
         ('    state = self.state_dict()\n    with torch.no_grad():\n'
          '        for name, param in weights.items():\n'
          '            if name in state and param.shape == state[name].shape:\n'
          '                state[name].copy_(param)\n                found.append(name)\n    return found\n',
          '    self.load_state_dict(weights)\n    return list(weights)\n')),
    _bug('lw_strict_false', 'test_load_weights',
         'load_state_dict(strict=False): всё равно падает на голове другой формы',
         ('    state = self.state_dict()\n    with torch.no_grad():\n'
          '        for name, param in weights.items():\n'
          '            if name in state and param.shape == state[name].shape:\n'
          '                state[name].copy_(param)\n                found.append(name)\n    return found\n',
          '    self.load_state_dict(weights, strict=False)\n    return [name for name in weights if name in self.state_dict()]\n')),
    _bug('lw_no_shape_check', 'test_load_weights',
         'нет сравнения форм: голова SOP (1 выход) размножается в голову классификации',
         ('if name in state and param.shape == state[name].shape:', 'if name in state:')),
    _bug('lw_assign_not_copy', 'test_load_weights',
         'присваивание в словарь state_dict вместо копирования в тензор модели',
         ('state[name].copy_(param)', 'state[name] = param')),
    _bug('lw_return_all_names', 'test_load_weights',
         'возвращаются имена всех тензоров файла, а не загруженных',
         ('                state[name].copy_(param)\n                found.append(name)\n',
          '                state[name].copy_(param)\n            found.append(name)\n')),

    # --- FinetuneTrainer ----------------------------------------------------------------------
    _bug('ft_eval_in_train_mode', 'test_finetune_trainer',
         '_eval_step не переводит модель в режим eval',
         ('        self._model.eval()\n        total_loss, total_count = 0., 0\n',
          '        total_loss, total_count = 0., 0\n')),
    _bug('ft_eval_with_grad', 'test_finetune_trainer',
         '_eval_step без torch.no_grad()',
         ('        with torch.no_grad():\n            for input_ids, targets in dataloader:',
          '        if True:\n            for input_ids, targets in dataloader:')),
    _bug('ft_train_in_eval_mode', 'test_finetune_trainer',
         '_train_step не возвращает модель в режим train после оценки',
         ('        self._model.train()\n        total_loss, total_count = 0., 0\n',
          '        total_loss, total_count = 0., 0\n')),
    _bug('ft_predict_in_train_mode', 'test_finetune_trainer',
         'predict_proba не переводит модель в режим eval',
         ('        self._model.eval()\n        probabilities = []\n', '        probabilities = []\n')),
    _bug('ft_train_loss_sum', 'test_finetune_trainer',
         '_train_step возвращает сумму, а не среднее',
         ('        return total_loss / total_count\n        ### END SOLUTION\n\n    def _eval_step',
          '        return total_loss\n        ### END SOLUTION\n\n    def _eval_step')),
    _bug('ft_no_scheduler', 'test_finetune_trainer',
         'только optimizer.step(): нет scheduler.step() и zero_grad',
         ('            self._optimizer_step()\n            self._log(\'train/loss\', loss.item(), self._n_batch)\n'
          '            self._n_batch += 1\n            total_loss',
          '            self._optimizer.step()\n            self._log(\'train/loss\', loss.item(), self._n_batch)\n'
          '            self._n_batch += 1\n            total_loss')),
    _bug('ft_mask_pad_zero', 'test_finetune_trainer',
         'маска внимания по индексу 0, а не по pad_token_id',
         ('attention_mask = (input_ids != self._pad_token_id).long()\n        with self._autocast():\n            return',
          'attention_mask = (input_ids != 0).long()\n        with self._autocast():\n            return')),
]


# ----------------------------------------------------------------------------------------------
# Как собрать аргументы проверки из (исправленного заплатками) модуля решения
# ----------------------------------------------------------------------------------------------

def make_tokenizer(module, workdir):
    """Маленький токенизатор из класса модуля (обучается за ~0.1 с)."""
    from tests import alt_solution as alt
    workdir = Path(workdir)
    return module.WordpieceTokenizer.from_corpus(alt.make_corpus(), workdir / 'corpus.txt', workdir / 'tokenizer',
                                                 'bugs', vocab_size=400, min_frequency=2)


def build_args(module, check, tokenizer, workdir):
    """Аргументы `tests.<check>(...)`, как в ячейках проверки ноутбука, на маленьких размерах.

    tokenizer — общий токенизатор эталона; для ошибок токенизатора он строится из модуля заново.
    """
    from tests import alt_solution as alt
    if check == 'test_tokenizer':
        return (make_tokenizer(module, workdir),)
    if check in ('test_dataset', 'test_collator'):
        ds = module.PretrainDataset(alt.make_corpus(400, seed=1), tokenizer, minlen=5, maxlen=16, presort=True)
        return (ds,) if check == 'test_dataset' else (ds, module.Collator(tokenizer, non_target_idx=-100))
    if check in ('test_optimizer', 'test_scheduler'):
        model = module.BertModel(hidden_size=32, vocab_size=tokenizer.vocab_size, max_seqlen=32, num_hidden_layers=2,
                                 intermediate_size=128, num_attention_heads=4)
        return ((module.get_optimizer, model) if check == 'test_optimizer'
                else (module.Scheduler, module.get_optimizer, model))
    return {
        'test_init_layer': lambda: (module.init_layer,),
        'test_bert_embeddings': lambda: (module.BertEmbeddings,),
        'test_attention': lambda: (module.MultiHeadSelfAttention,),
        'test_feedforward': lambda: (module.FeedForward,),
        'test_bert_layer': lambda: (module.BertLayer,),
        'test_bert': lambda: (module.Bert,),
        'test_mlm_head': lambda: (module.MlmHead, module.BertEmbeddings),
        'test_classifier_head': lambda: (module.ClassifierHead,),
        'test_bert_model': lambda: (module.BertModel,),
        'test_trainer': lambda: (module.Trainer,),
        'test_finetune_dataset': lambda: (module.FinetuneDataset, tokenizer),
        'test_collate_fn': lambda: (module.collate_fn,),
        'test_finetune_model': lambda: (module.BertFinetuneModel,),
        'test_load_weights': lambda: (module.load_weights, module.BertModel, module.BertFinetuneModel),
        'test_finetune_trainer': lambda: (module.FinetuneTrainer,),
    }[check]()


def load_bug(bug):
    """Модуль решения с заплатками ошибки (ValueError, если текст заплатки не найден)."""
    return load_defs(patches=bug.patches, name=f'bug_{bug.id}')


def run_bug(bug, checks, tokenizer, workdir):
    """Запускает проверку на решении с ошибкой: (поймана ли, сообщение или None, секунды).

    Поймана — значит, проверка бросила CheckError (AssertionError) вместо строки «✓».
    """
    import contextlib
    import io
    start = time.perf_counter()
    module = load_bug(bug)
    args = build_args(module, bug.check, tokenizer, workdir)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            getattr(checks, bug.check)(*args)
    except AssertionError as e:
        return True, str(e), time.perf_counter() - start
    return False, None, time.perf_counter() - start
