"""Correct ways students really write the components: each must pass its check at home AND in the
grader's replay of the record (tests/test_replay_agreement.py). Patches `(old, new)` on the
reference's `defs` cells, as in tests/bug_catalogue.py; each variant is a correct implementation."""
from coursekit.demo import INIT_BODY, INIT_DATA_WRITES
from tests.bug_catalogue import Bug

ATT_SCORES = """        scores = query @ key.transpose(-2, -1) / math.sqrt(d)  # B x heads x S x S
        if attention_mask is not None:
            scores = scores.masked_fill(attention_mask[:, None] == 0, torch.finfo(scores.dtype).min)
        probs = self._attention_dropout(scores.softmax(dim=-1))  # softmax по ключам
        context = probs @ value  # B x heads x S x d
"""
ATT_SPLIT = """        query, key, value = (t.view(batch_size, seqlen, heads, d).transpose(1, 2) for t in (query, key, value))
"""
LOAD_BODY = """    with torch.no_grad():
        for name, param in weights.items():
            if name in state and param.shape == state[name].shape:
                state[name].copy_(param)
                found.append(name)
"""


def _idiom(id, check, description, *patches):
    return Bug(id, check, description, tuple(patches))


IDIOMS = [
    _idiom('init_data_writes', 'test_init_layer', 'веса и смещение через .data (как в подсказке текста)',
           (INIT_BODY, INIT_DATA_WRITES)),
    _idiom('init_data_tensor_methods', 'test_init_layer', '.data и методы тензора: trunc_normal_ и fill_',
           (INIT_BODY, """    layer.weight.data.trunc_normal_(0, initializer_range, -2 * initializer_range, 2 * initializer_range) \\
        if hasattr(torch.Tensor, 'trunc_normal_') else nn.init.trunc_normal_(
            layer.weight.data, std=initializer_range, a=-2 * initializer_range, b=2 * initializer_range)
    if zero_out_bias and getattr(layer, 'bias', None) is not None:
        layer.bias.data.fill_(0.0)
""")),
    _idiom('init_nn_init_only', 'test_init_layer', 'только функции nn.init (trunc_normal_ и zeros_), без no_grad',
           (INIT_BODY, """    nn.init.trunc_normal_(layer.weight, std=initializer_range, a=-2 * initializer_range,
                          b=2 * initializer_range)
    if zero_out_bias and layer.bias is not None:
        nn.init.zeros_(layer.bias)
""")),
    _idiom('init_copy', 'test_init_layer', 'новые значения в готовый тензор через copy_ под no_grad',
           (INIT_BODY, """    fresh = torch.empty_like(layer.weight)
    nn.init.trunc_normal_(fresh, std=initializer_range, a=-2 * initializer_range, b=2 * initializer_range)
    with torch.no_grad():
        layer.weight.copy_(fresh)
        if zero_out_bias and layer.bias is not None:
            layer.bias.copy_(torch.zeros_like(layer.bias))
""")),
    _idiom('init_assign_data', 'test_init_layer', 'присваивание нового тензора атрибуту .data',
           (INIT_BODY, """    layer.weight.data = nn.init.trunc_normal_(torch.empty_like(layer.weight), std=initializer_range,
                                              a=-2 * initializer_range, b=2 * initializer_range)
    if zero_out_bias and layer.bias is not None:
        layer.bias.data = torch.zeros_like(layer.bias)
""")),
    _idiom('init_view_writes', 'test_init_layer', 'запись через view параметра (reshape(-1) под no_grad)',
           (INIT_BODY, """    with torch.no_grad():
        flat = layer.weight.view(-1)
        flat.copy_(nn.init.trunc_normal_(torch.empty(flat.shape), std=initializer_range,
                                         a=-2 * initializer_range, b=2 * initializer_range))
        if zero_out_bias and layer.bias is not None:
            layer.bias.view(-1)[:] = 0
""")),
    _idiom('load_data_copy', 'test_load_weights', 'загрузка через параметры модели и .data.copy_',
           (LOAD_BODY, """    own = dict(self.named_parameters())
    own.update(dict(self.named_buffers()))
    for name, param in weights.items():
        if name in own and param.shape == own[name].shape:
            own[name].data.copy_(param)
            found.append(name)
""")),
    _idiom('load_state_dict_strict_false', 'test_load_weights', 'load_state_dict(strict=False) с отобранными ключами',
           (LOAD_BODY, """    chosen = {name: param for name, param in weights.items()
              if name in state and param.shape == state[name].shape}
    self.load_state_dict(chosen, strict=False)
    found.extend(chosen)
""")),
    _idiom('att_sdpa', 'test_attention', 'F.scaled_dot_product_attention с булевой маской',
           (ATT_SCORES, """        mask = None if attention_mask is None else attention_mask[:, None].bool()  # B x 1 x S x S
        p = self._attention_dropout.p if self.training else 0.0
        context = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=p)
""")),
    _idiom('att_einsum_additive_mask', 'test_attention', 'einsum и аддитивная маска -10000, как в старом BERT',
           (ATT_SCORES, """        scores = torch.einsum('bhqd,bhkd->bhqk', query, key) / math.sqrt(d)  # B x heads x S x S
        if attention_mask is not None:
            scores = scores + (1.0 - attention_mask[:, None].to(scores.dtype)) * -10000.0
        probs = self._attention_dropout(torch.softmax(scores, dim=-1))
        context = torch.einsum('bhqk,bhkd->bhqd', probs, value)  # B x heads x S x d
""")),
    _idiom('att_permute_noncontiguous', 'test_attention', 'permute вместо transpose: несмежные тензоры',
           (ATT_SPLIT, """        query, key, value = (t.reshape(batch_size, seqlen, heads, d).permute(0, 2, 1, 3)
                             for t in (query, key, value))
""")),
    _idiom('emb_helper_method', 'test_bert_embeddings', 'свой вспомогательный метод для позиций',
           ("""        positions = torch.arange(input_ids.shape[1], device=input_ids.device)  # S
""", """        positions = self.position_ids(input_ids)  # S
"""),
           ("""    def get_token_embeddings(self):
        \"\"\"returns: слой с матрицей эмбеддингов токенов (нужен MLM-голове)\"\"\"""",
            """    def position_ids(self, input_ids):
        return torch.arange(input_ids.shape[1], device=input_ids.device)

    def get_token_embeddings(self):
        \"\"\"returns: слой с матрицей эмбеддингов токенов (нужен MLM-голове)\"\"\"""")),
]
