"""A second, independently written correct implementation of every component of the contract.

It differs from the notebook's solution on purpose (names, layout, RNG sources) so that the
student checks are shown to judge behaviour, not one particular way of writing the code.
Used only by the course's own tests (tests/test_checks_alt.py) and bench/check_speed.py.
"""
import os
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']


# --- Part 1: data --------------------------------------------------------------------------------

class WordpieceTokenizer:
    def __init__(self, vocab_path, strip_accents=True, clean_text=True, lowercase=True):
        from tokenizers.normalizers import BertNormalizer
        from transformers import BertTokenizerFast
        self._tokenizer = BertTokenizerFast(vocab=str(vocab_path), do_lower_case=lowercase,
                                            strip_accents=strip_accents)
        self._tokenizer.backend_tokenizer.normalizer = BertNormalizer(
            clean_text=clean_text, handle_chinese_chars=True, strip_accents=strip_accents, lowercase=lowercase)

    @classmethod
    def from_corpus(cls, corpus, corpus_save_path, tokenizer_save_path, tokenizer_name, vocab_size=30000,
                    min_frequency=2, strip_accents=True, clean_text=True, lowercase=True):
        from tokenizers import BertWordPieceTokenizer
        Path(corpus_save_path).parent.mkdir(parents=True, exist_ok=True)
        with open(corpus_save_path, 'w', encoding='utf-8') as f:
            for line in corpus:
                f.write(str(line) + '\n')
        trainer = BertWordPieceTokenizer(clean_text=clean_text, strip_accents=strip_accents, lowercase=lowercase)
        trainer.train([str(corpus_save_path)], vocab_size=vocab_size, min_frequency=min_frequency,
                      special_tokens=SPECIALS, show_progress=False)
        os.makedirs(tokenizer_save_path, exist_ok=True)
        files = trainer.save_model(str(tokenizer_save_path), tokenizer_name)
        return cls(files[0], strip_accents, clean_text, lowercase)

    def __call__(self, text):
        return self._tokenizer.encode(text, add_special_tokens=False)

    cls_token_id = property(lambda self: self._tokenizer.cls_token_id)
    pad_token_id = property(lambda self: self._tokenizer.pad_token_id)
    mask_token_id = property(lambda self: self._tokenizer.mask_token_id)
    sep_token_id = property(lambda self: self._tokenizer.sep_token_id)
    vocab_size = property(lambda self: self._tokenizer.vocab_size)


class PretrainDataset(torch.utils.data.Dataset):
    def __init__(self, corpus, tokenizer, minlen, maxlen, permute_prob=0.5, verbose=False, presort=False):
        super().__init__()
        self._tokenizer = tokenizer
        self._maxlen = maxlen
        self._p = permute_prob
        encoded = (np.asarray(tokenizer(text), dtype=np.int64) for text in corpus)
        self._corpus = [ids for ids in encoded if ids.size >= minlen]
        if presort:
            self._corpus = sorted(self._corpus, key=lambda a: a.size)

    def __len__(self):
        return len(self._corpus)

    @property
    def tokenizer(self):
        return self._tokenizer

    def set_maxlen(self, maxlen):
        self._maxlen = maxlen

    def __getitem__(self, idx):
        ids = self._corpus[idx]
        width = min(ids.size, self._maxlen)
        offset = np.random.randint(0, ids.size - width + 1)
        piece = torch.from_numpy(ids[offset:offset + width].copy())
        half = width // 2
        first, second = piece[:half], piece[half:]
        swap = bool(np.random.rand() < self._p)
        if swap:
            first, second = second, first
        cls_ = torch.tensor([self._tokenizer.cls_token_id])
        sep_ = torch.tensor([self._tokenizer.sep_token_id])
        input_ids = torch.cat([cls_, first, sep_, second, sep_])
        token_type_ids = torch.ones_like(input_ids)
        token_type_ids[:first.numel() + 2] = 0
        return input_ids, token_type_ids, torch.tensor(int(swap))


class Collator:
    def __init__(self, tokenizer, non_target_idx=-100, mask_prob=0.15, random_prob=0.1, keep_unchanged_prob=0.1):
        self.tok = tokenizer
        self.ignore = non_target_idx
        self.p_target = mask_prob
        self.p_random = random_prob
        self.p_keep = keep_unchanged_prob
        self.first_regular = 5

    def __call__(self, batch):
        bsz = len(batch)
        width = max(item[0].numel() for item in batch)
        ids = torch.full((bsz, width), self.tok.pad_token_id, dtype=torch.long)
        types = torch.zeros((bsz, width), dtype=torch.long)
        for row, (a, b, _) in enumerate(batch):
            ids[row, :a.numel()] = a
            types[row, :b.numel()] = b
        flags = torch.tensor([float(item[2]) for item in batch])
        regular = ids >= self.first_regular
        chosen = torch.bernoulli(torch.full(ids.shape, self.p_target)).bool() & regular
        labels = ids.masked_fill(~chosen, self.ignore)
        u = torch.rand(ids.shape)
        as_random = chosen & (u < self.p_random)
        as_mask = chosen & (u >= self.p_random + self.p_keep)
        corrupted = ids.clone()
        corrupted[as_mask] = self.tok.mask_token_id
        corrupted[as_random] = torch.randint(self.first_regular, self.tok.vocab_size, (int(as_random.sum()),))
        return corrupted, types, labels, flags


# --- Part 2: model -------------------------------------------------------------------------------

def init_layer(layer, initializer_range=0.02, zero_out_bias=True):
    with torch.no_grad():
        torch.nn.init.trunc_normal_(layer.weight, mean=0.0, std=initializer_range,
                                    a=-2.0 * initializer_range, b=2.0 * initializer_range)
        if zero_out_bias and isinstance(getattr(layer, 'bias', None), torch.Tensor):
            layer.bias.fill_(0.0)


class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size, hidden_size, max_seqlen, dropout_prob=0., type_vocab_size=2, eps=1e-3):
        super().__init__()
        self._token_embeddings = nn.Embedding(vocab_size, hidden_size)
        self.positions = nn.Parameter(torch.empty(max_seqlen, hidden_size))
        self.segments = nn.Embedding(type_vocab_size, hidden_size)
        self.norm = nn.LayerNorm(hidden_size, eps=eps)
        self.drop = nn.Dropout(dropout_prob)
        init_layer(self._token_embeddings, zero_out_bias=False)
        init_layer(self.segments, zero_out_bias=False)
        with torch.no_grad():
            nn.init.trunc_normal_(self.positions, std=0.02, a=-0.04, b=0.04)

    def get_token_embeddings(self):
        return self._token_embeddings

    def forward(self, input_ids, token_type_ids=None):
        seqlen = input_ids.size(1)
        out = self._token_embeddings(input_ids) + self.positions[:seqlen].unsqueeze(0)
        if token_type_ids is not None:
            out = out + self.segments(token_type_ids)
        else:
            out = out + self.segments.weight[0]
        return self.drop(self.norm(out))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, hidden_size, num_attention_heads, attention_probs_dropout_prob=0., dropout_prob=0., eps=1e-3):
        super().__init__()
        assert hidden_size % num_attention_heads == 0
        self.heads = num_attention_heads
        self.in_proj = nn.Linear(hidden_size, 3 * hidden_size)
        self.proj = nn.Linear(hidden_size, hidden_size)
        self.attn_drop = nn.Dropout(attention_probs_dropout_prob)
        self.resid_drop = nn.Dropout(dropout_prob)
        self.norm = nn.LayerNorm(hidden_size, eps=eps)
        for lin in (self.in_proj, self.proj):
            init_layer(lin)

    @property
    def size_per_head(self):
        return self.proj.in_features // self.heads

    def forward(self, embeddings, attention_mask):
        b, s, h = embeddings.shape
        d = self.size_per_head
        # B x S x 3H -> B x S x 3 x heads x d -> 3 x B x heads x S x d
        qkv = self.in_proj(embeddings).reshape(b, s, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        logits = torch.einsum('bhid,bhjd->bhij', q, k) * d ** -0.5
        if attention_mask is not None:
            logits = logits + (1.0 - attention_mask[:, None].float()) * -1e9
        weights = self.attn_drop(F.softmax(logits, dim=-1))
        ctx = torch.einsum('bhij,bhjd->bhid', weights, v)
        ctx = ctx.permute(0, 2, 1, 3).reshape(b, s, h)  # B x S x heads x d -> B x S x H
        return self.norm(embeddings + self.resid_drop(self.proj(ctx)))


def _activation(name):
    return {'relu': nn.ReLU(), 'gelu': nn.GELU()}[name]


class FeedForward(nn.Module):
    def __init__(self, hidden_size, intermediate_size, dropout_prob=0., act_func='relu', eps=1e-3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(hidden_size, intermediate_size),
            _activation(act_func),
            nn.Linear(intermediate_size, hidden_size),
            nn.Dropout(dropout_prob),
        )
        self.norm = nn.LayerNorm(hidden_size, eps=eps)
        init_layer(self.net[0])
        init_layer(self.net[2])

    def forward(self, embeddings):
        return self.norm(self.net(embeddings) + embeddings)


class BertLayer(nn.Module):
    def __init__(self, hidden_size, intermediate_size, num_attention_heads, dropout_prob=0.,
                 attention_probs_dropout_prob=0., act_func='relu', eps=1e-3):
        super().__init__()
        self._multihead_attention = MultiHeadSelfAttention(
            hidden_size=hidden_size, num_attention_heads=num_attention_heads,
            attention_probs_dropout_prob=attention_probs_dropout_prob, dropout_prob=dropout_prob, eps=eps)
        self._feedforward = FeedForward(hidden_size=hidden_size, intermediate_size=intermediate_size,
                                        act_func=act_func, eps=eps, dropout_prob=dropout_prob)

    def forward(self, x, attention_mask=None):
        x = self._multihead_attention(x, attention_mask)
        x = self._feedforward(x)
        return x


class Bert(nn.Module):
    def __init__(self, vocab_size, max_seqlen, hidden_size, num_hidden_layers, intermediate_size,
                 num_attention_heads, input_dropout_prob=0., dropout_prob=0., attention_probs_dropout_prob=0.,
                 act_func='relu', eps=1e-3):
        super().__init__()
        self._embeddings = BertEmbeddings(vocab_size, hidden_size, max_seqlen, input_dropout_prob, eps=eps)
        self.blocks = nn.ModuleList(
            BertLayer(hidden_size, intermediate_size, num_attention_heads, dropout_prob,
                      attention_probs_dropout_prob, act_func, eps)
            for _ in range(num_hidden_layers))

    def get_token_embeddings(self):
        return self._embeddings.get_token_embeddings()

    @staticmethod
    def expand_mask(attention_mask):
        return attention_mask[:, None] * torch.ones_like(attention_mask)[..., None]

    def forward(self, x, attention_mask=None, token_type_ids=None):
        mask = self.expand_mask(torch.ones_like(x) if attention_mask is None else attention_mask)
        h = self._embeddings(x, token_type_ids)
        for block in self.blocks:
            h = block(h, mask)
        return h


class MlmHead(nn.Module):
    def __init__(self, hidden_size, vocab_size, hidden_act, eps=1e-3, ignore_index=-100, input_embeddings=None):
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(hidden_size, hidden_size), _activation(hidden_act),
                                       nn.LayerNorm(hidden_size, eps=eps))
        init_layer(self.transform[0])
        if input_embeddings is None:
            input_embeddings = nn.Embedding(vocab_size, hidden_size)
            init_layer(input_embeddings, zero_out_bias=False)
        self.embedding = input_embeddings   # the same module (and weight) as the backbone's
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        self.ignore_index = ignore_index

    def forward(self, hidden_states, labels=None):
        logits = F.linear(self.transform(hidden_states), self.embedding.weight, self.output_bias)
        if labels is None:
            return logits
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=self.ignore_index)


class ClassifierHead(nn.Module):
    CLS_POSITION = 0
    CRITERION = nn.BCEWithLogitsLoss()

    def __init__(self, hidden_size, num_classes=1, hidden_dropout_prob=0.):
        super().__init__()
        self.pooler = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh(), nn.Dropout(hidden_dropout_prob))
        self.fc = nn.Linear(hidden_size, num_classes)
        init_layer(self.pooler[0])
        init_layer(self.fc)

    def forward(self, hidden_states, permuted=None):
        logits = self.fc(self.pooler(hidden_states[:, self.CLS_POSITION]))
        if permuted is None:
            return logits
        return self.CRITERION(logits.squeeze(-1), permuted.to(logits.dtype))


class BertModel(nn.Module):
    def __init__(self, hidden_size, vocab_size, max_seqlen, num_hidden_layers, intermediate_size,
                 num_attention_heads, act_func='relu', input_dropout_prob=0., hidden_dropout_prob=0.,
                 attention_probs_dropout_prob=0., eps=1e-3, ignore_index=-100):
        super().__init__()
        self._backbone = Bert(vocab_size=vocab_size, max_seqlen=max_seqlen, hidden_size=hidden_size,
                              num_hidden_layers=num_hidden_layers, intermediate_size=intermediate_size,
                              num_attention_heads=num_attention_heads, input_dropout_prob=input_dropout_prob,
                              dropout_prob=hidden_dropout_prob,
                              attention_probs_dropout_prob=attention_probs_dropout_prob, act_func=act_func, eps=eps)
        self._mlm_head = MlmHead(hidden_size, vocab_size, act_func, eps, ignore_index,
                                 input_embeddings=self._backbone.get_token_embeddings())
        self._classifier_head = ClassifierHead(hidden_size, hidden_dropout_prob=hidden_dropout_prob, num_classes=1)

    def forward(self, x, attention_mask, labels, permuted, token_type_ids=None):
        hidden_states = self._backbone(x, attention_mask, token_type_ids)
        mlm_loss = self._mlm_head(hidden_states, labels)
        sop_loss = self._classifier_head(hidden_states, permuted)
        return 0.5 * mlm_loss + 0.5 * sop_loss, {'MLM': mlm_loss, 'SOP': sop_loss}


# --- Part 3: optimisation ------------------------------------------------------------------------

def get_optimizer(model, weight_decay=0.01):
    norm_params = {id(p) for m in model.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    decayed_parameters, not_decayed_parameters = [], []
    for p in model.parameters():
        (not_decayed_parameters if p.ndim < 2 or id(p) in norm_params else decayed_parameters).append(p)
    return torch.optim.AdamW([
        {'params': decayed_parameters, 'weight_decay': weight_decay},
        {'params': not_decayed_parameters, 'weight_decay': 0.},
    ])


class Scheduler:
    def __init__(self, optimizer, init_lr, peak_lr, final_lr, num_warmup_steps, num_training_steps):
        self._optimizer = optimizer
        self._step = 0
        up = lambda t: init_lr + (peak_lr - init_lr) * min(t / max(num_warmup_steps, 1), 1.0)
        down = lambda t: peak_lr + (final_lr - peak_lr) * min(
            max(t - num_warmup_steps, 0) / max(num_training_steps - num_warmup_steps, 1), 1.0)
        self._schedule = lambda t: up(t) if t <= num_warmup_steps else down(t)
        self._apply()

    def _apply(self):
        for group in self._optimizer.param_groups:
            group['lr'] = self._schedule(self._step)

    def step(self):
        self._step += 1
        self._apply()

    def get_last_lr(self):
        return [param_group['lr'] for param_group in self._optimizer.param_groups]


class Trainer:
    def __init__(self, model, optimizer, scheduler, pad_token_id, device, num_accum_steps=1, logdir=None,
                 max_grad_norm=None):
        self.device = torch.device(device)
        self._model = model.to(self.device)
        self.opt, self.sched = optimizer, scheduler
        self.pad = pad_token_id
        self.accum = num_accum_steps
        self.max_norm = max_grad_norm
        self._writer = None
        if logdir is not None:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(log_dir=logdir)
        self._n_epoch = 0
        self.global_batch = 0
        self.global_step = 0

    def train(self, dataloader, n_epochs):
        for epoch in range(n_epochs):
            self._train_step(dataloader)
            self._n_epoch += 1

    def _scalar(self, tag, value, step):
        if self._writer is not None:
            self._writer.add_scalar(tag, value, step)

    def _update(self):
        params = [p for p in self._model.parameters() if p.grad is not None]
        norm = torch.nn.utils.clip_grad_norm_(params, self.max_norm if self.max_norm else float('inf'))
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad()
        self._scalar('grad_norm', float(norm), self.global_step)
        self._scalar('lr', self.sched.get_last_lr()[0], self.global_step)
        self.global_step += 1

    def _train_step(self, dataloader):
        self._model.train()
        self.opt.zero_grad()
        for n, (input_ids, token_type_ids, labels, permuted) in enumerate(dataloader, start=1):
            input_ids, token_type_ids = input_ids.to(self.device), token_type_ids.to(self.device)
            labels, permuted = labels.to(self.device), permuted.to(self.device)
            mask = input_ids.ne(self.pad).long()
            loss, parts = self._model(input_ids, mask, labels, permuted, token_type_ids)
            (loss / self.accum).backward()
            if n % self.accum == 0:
                self._update()
            self._scalar('loss', loss.item(), self.global_batch)
            self.global_batch += 1


# --- Part 4: fine-tuning -------------------------------------------------------------------------

class FinetuneDataset(torch.utils.data.Dataset):
    def __init__(self, texts, targets, tokenizer, maxlen, presort=False):
        rows = [([tokenizer.cls_token_id] + list(tokenizer(str(t)))[:maxlen] + [tokenizer.sep_token_id], int(y))
                for t, y in zip(texts, targets)]
        if presort:
            rows.sort(key=lambda r: len(r[0]))
        self._texts = [torch.tensor(r[0], dtype=torch.long) for r in rows]
        self._targets = [r[1] for r in rows]

    def __len__(self):
        return len(self._texts)

    def __getitem__(self, idx):
        return self._texts[idx], self._targets[idx]


def collate_fn(batch, pad_idx):
    longest = max(len(ids) for ids, _ in batch)
    out = torch.full((len(batch), longest), pad_idx, dtype=torch.long)
    for row, (ids, _) in enumerate(batch):
        out[row, :len(ids)] = ids
    return out, torch.tensor([int(t) for _, t in batch], dtype=torch.long)


class BertFinetuneModel(nn.Module):
    def __init__(self, hidden_size, vocab_size, max_seqlen, num_hidden_layers, intermediate_size,
                 num_attention_heads, num_classes, act_func='relu', input_dropout_prob=0., hidden_dropout_prob=0.,
                 attention_probs_dropout_prob=0., eps=1e-3):
        super().__init__()
        self._backbone = Bert(vocab_size=vocab_size, max_seqlen=max_seqlen, hidden_size=hidden_size,
                              num_hidden_layers=num_hidden_layers, intermediate_size=intermediate_size,
                              num_attention_heads=num_attention_heads, input_dropout_prob=input_dropout_prob,
                              dropout_prob=hidden_dropout_prob,
                              attention_probs_dropout_prob=attention_probs_dropout_prob, act_func=act_func, eps=eps)
        self._classifier_head = ClassifierHead(hidden_size, num_classes, hidden_dropout_prob)

    def forward(self, x, attention_mask):
        hidden_states = self._backbone(x, attention_mask)
        return self._classifier_head(hidden_states)


def load_weights(self, path):
    saved = torch.load(path, map_location='cpu', weights_only=True)
    own = self.state_dict()
    usable = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    self.load_state_dict(usable, strict=False)
    return list(usable)


class FinetuneTrainer:
    def __init__(self, model, optimizer, scheduler, pad_token_id, device, logdir=None, max_grad_norm=None):
        self.device = torch.device(device)
        self._model = model.to(self.device)
        self.opt, self.sched, self.pad, self.max_norm = optimizer, scheduler, pad_token_id, max_grad_norm
        self._writer = None
        if logdir is not None:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(logdir)
        self._n_epoch = 0
        self.criterion = nn.CrossEntropyLoss(reduction='sum')

    def train(self, dataloaders, n_epochs, scorer=None):
        for epoch in range(n_epochs):
            self._train_step(dataloaders['train'])
            val_loss = self._eval_step(dataloaders['eval'])
            if self._writer is not None:
                self._writer.add_scalar('eval', val_loss, global_step=self._n_epoch)
                if scorer is not None:
                    name, value = scorer(self)
                    self._writer.add_scalar(name, value, global_step=self._n_epoch)
            self._n_epoch += 1

    def _forward(self, input_ids):
        input_ids = input_ids.to(self.device)
        return self._model(input_ids, (input_ids != self.pad).long())

    def _train_step(self, dataloader):
        self._model.train()
        total, count = 0.0, 0
        for input_ids, targets in dataloader:
            targets = targets.to(self.device)
            loss_sum = self.criterion(self._forward(input_ids), targets)
            loss = loss_sum / len(targets)
            self.opt.zero_grad()
            loss.backward()
            if self.max_norm is not None:
                torch.nn.utils.clip_grad_norm_(self._model.parameters(), self.max_norm)
            self.opt.step()
            self.sched.step()
            total += loss_sum.item()
            count += len(targets)
        return total / max(count, 1)

    @torch.no_grad()
    def _eval_step(self, dataloader):
        self._model.eval()
        total, count = 0.0, 0
        for input_ids, targets in dataloader:
            total += self.criterion(self._forward(input_ids), targets.to(self.device)).item()
            count += len(targets)
        return total / max(count, 1)

    @torch.no_grad()
    def predict(self, dataloader):
        self._model.eval()
        out = [self._forward(batch).argmax(dim=1).cpu() for batch in dataloader]
        return torch.cat(out).numpy()


# --- helpers for the course's tests and bench ----------------------------------------------------

_BRANDS = ['ПРОСТОКВАШИНО', 'ДОМИК В ДЕРЕВНЕ', 'МАКФА', 'БАРИЛЛА', 'ЭКОМИЛК', 'ЖОКЕЙ', 'ДОБРЫЙ', 'АЛЬПЕН ГОЛЬД']
_ITEMS = ['МОЛОКО', 'ХЛЕБ', 'СЫР', 'МАСЛО', 'ВОДА', 'КОФЕ', 'ШОКОЛАД', 'ПАКЕТ', 'КЕФИР', 'ТВОРОГ', 'СМЕТАНА',
          'ЙОГУРТ', 'ЧАЙ', 'СОК', 'КОЛБАСА', 'СОСИСКИ', 'ПЕЛЬМЕНИ', 'МАКАРОНЫ', 'ГРЕЧКА', 'РИС', 'САХАР', 'МУКА',
          'ПЕЧЕНЬЕ', 'КОНФЕТЫ', 'ПИВО', 'ЛИМОНАД', 'ШАМПУНЬ', 'ЗУБНАЯ ПАСТА', 'БАНАНЫ', 'ЯБЛОКИ', 'КАРТОФЕЛЬ']
_ADJ = ['ПАСТЕРИЗОВАННОЕ', 'СЛИВОЧНОЕ', 'РОССИЙСКИЙ', 'МОЛОТЫЙ', 'МОЛОЧНЫЙ', 'ЧЕРНЫЙ', 'ЯБЛОЧНЫЙ',
        'ДОКТОРСКАЯ', 'ЗАМОРОЖЕННЫЕ', 'ВЫСШИЙ СОРТ', 'СВЕТЛОЕ', 'ГАЗ.', 'МИН.', 'НАТУРАЛЬНЫЙ', 'café']
_UNITS = ['1Л', '930МЛ', '0,5Л', '200Г', '450Г', '1КГ', 'ВЕС', '10ШТ', '3,2%', '82,5%', '20%', '45%']


def make_corpus(n=3000, seed=0):
    """Russian receipt-like item names (deterministic)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        words = [rng.choice(_ITEMS)] + rng.sample(_ADJ, rng.randint(0, 2)) + rng.sample(_UNITS, rng.randint(0, 2))
        if rng.random() < 0.6:
            words.append(rng.choice(_BRANDS))
        text = ' '.join(words)
        texts.append(text if rng.random() < 0.7 else text.lower())
    return texts


def make_tokenizer(workdir, vocab_size=400):
    workdir = Path(workdir)
    return WordpieceTokenizer.from_corpus(make_corpus(), workdir / 'corpus.txt', workdir / 'tokenizer', 'alt',
                                          vocab_size=vocab_size, min_frequency=2)


def make_objects(workdir):
    """Everything the student passes to tests.test_*: {check name: args tuple}."""
    tokenizer = make_tokenizer(workdir)
    corpus = make_corpus(400, seed=1)
    ds = PretrainDataset(corpus, tokenizer, minlen=5, maxlen=16, presort=True)
    collator = Collator(tokenizer, non_target_idx=-100)
    model = BertModel(hidden_size=32, vocab_size=tokenizer.vocab_size, max_seqlen=32, num_hidden_layers=2,
                      intermediate_size=128, num_attention_heads=4)
    return {
        'test_tokenizer': (tokenizer,),
        'test_dataset': (ds,),
        'test_collator': (ds, collator),
        'test_init_layer': (init_layer,),
        'test_bert_embeddings': (BertEmbeddings,),
        'test_attention': (MultiHeadSelfAttention,),
        'test_feedforward': (FeedForward,),
        'test_bert_layer': (BertLayer,),
        'test_bert': (Bert,),
        'test_mlm_head': (MlmHead, BertEmbeddings),
        'test_classifier_head': (ClassifierHead,),
        'test_bert_model': (BertModel,),
        'test_optimizer': (get_optimizer, model),
        'test_scheduler': (Scheduler, get_optimizer, model),
        'test_trainer': (Trainer,),
        'test_finetune_dataset': (FinetuneDataset, tokenizer),
        'test_collate_fn': (collate_fn,),
        'test_finetune_model': (BertFinetuneModel,),
        'test_load_weights': (load_weights, BertModel, BertFinetuneModel),
        'test_finetune_trainer': (FinetuneTrainer,),
    }
