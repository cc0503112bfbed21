/*
 * Independent C11 implementation of the pcmoe model, written from
 * docs/model.md alone, to check that the page defines the model completely.
 *
 *   model_reference CHECKPOINT INPUT_BYTES_FILE OUT_LOGITS_FILE
 *       Runs the forward pass on 1 to seq_len input bytes and writes one row of
 *       256 little-endian float32 logits per input byte, like `pcmoe logits`.
 *   model_reference init CHECKPOINT [COUNT]
 *       Regenerates every weight tensor from the seed in the checkpoint's
 *       `training` metadata and compares it with the checkpoint. A checkpoint
 *       at step 1 is first taken back one AdamW step using its optimizer state.
 *       Prints the first COUNT values (default 4) of a few tensors.
 *
 * Only libc and libm are used. Tensors are float32 as in the page; sums inside
 * a kernel are accumulated in double, which the comparison tolerance allows.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB 256
#define RMS_EPS 1e-5
#define ROPE_BASE 10000.0
#define INIT_STD 0.02
#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.95
#define ADAM_EPS 1e-8
#define PI 3.14159265358979323846

static void die(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("model_reference: error: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        die("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *copy = xcalloc(n + 1, 1);
    memcpy(copy, s, n);
    return copy;
}

static unsigned char *read_whole_file(const char *path, size_t *length)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        die("cannot open %s: %s", path, strerror(errno));
    size_t capacity = 1 << 16, used = 0;
    unsigned char *data = xcalloc(capacity, 1);
    size_t got;
    while ((got = fread(data + used, 1, capacity - used, file)) > 0) {
        used += got;
        if (used == capacity) {
            capacity *= 2;
            data = realloc(data, capacity);
            if (!data)
                die("out of memory reading %s", path);
        }
    }
    if (ferror(file))
        die("failed to read %s: %s", path, strerror(errno));
    fclose(file);
    *length = used;
    return data;
}

/* ---------------------------------------------------------------- JSON --- */

/* A parsed JSON value. Numbers keep their source text so that 64-bit
 * integers such as the seed are read without going through a double. */
typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonKind;

typedef struct JsonValue {
    JsonKind kind;
    char *text;               /* string contents, or the number's source text */
    size_t count;             /* items of an array or object */
    char **keys;              /* object keys, parallel to items */
    struct JsonValue *items;
} JsonValue;

typedef struct {
    const char *text;
    size_t length, pos;
    const char *what;         /* named in error messages */
} JsonParser;

static void json_fail(const JsonParser *p, const char *problem)
{
    die("invalid JSON in %s at byte %zu: %s", p->what, p->pos, problem);
}

static void json_skip_space(JsonParser *p)
{
    while (p->pos < p->length && p->text[p->pos] && strchr(" \t\r\n", p->text[p->pos]))
        p->pos++;
}

static int json_peek(JsonParser *p)
{
    json_skip_space(p);
    return p->pos < p->length ? (unsigned char)p->text[p->pos] : -1;
}

static void json_expect(JsonParser *p, char c)
{
    if (json_peek(p) != c) {
        char message[32];
        snprintf(message, sizeof message, "expected '%c'", c);
        json_fail(p, message);
    }
    p->pos++;
}

static void append_utf8(char *out, size_t *n, unsigned code)
{
    if (code < 0x80) {
        out[(*n)++] = (char)code;
    } else if (code < 0x800) {
        out[(*n)++] = (char)(0xC0 | (code >> 6));
        out[(*n)++] = (char)(0x80 | (code & 0x3F));
    } else {
        out[(*n)++] = (char)(0xE0 | (code >> 12));
        out[(*n)++] = (char)(0x80 | ((code >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (code & 0x3F));
    }
}

static unsigned json_hex4(JsonParser *p)
{
    if (p->pos + 4 > p->length)
        json_fail(p, "truncated \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->text[p->pos++];
        value <<= 4;
        if (c >= '0' && c <= '9') value |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') value |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') value |= (unsigned)(c - 'A' + 10);
        else json_fail(p, "invalid \\u escape");
    }
    return value;
}

/* Parses a string token. It rejects \u escapes of surrogate pairs (characters
 * outside the Basic Multilingual Plane) because no pcmoe key or value needs them. */
static char *json_parse_string(JsonParser *p)
{
    json_expect(p, '"');
    char *out = xcalloc(p->length - p->pos + 1, 1);
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->length)
            json_fail(p, "unterminated string");
        char c = p->text[p->pos++];
        if (c == '"')
            break;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (p->pos >= p->length)
            json_fail(p, "unterminated escape");
        char e = p->text[p->pos++];
        const char *plain = strchr("\"\\/", e);
        if (plain && e) out[n++] = e;
        else if (e == 'b') out[n++] = '\b';
        else if (e == 'f') out[n++] = '\f';
        else if (e == 'n') out[n++] = '\n';
        else if (e == 'r') out[n++] = '\r';
        else if (e == 't') out[n++] = '\t';
        else if (e == 'u') {
            unsigned code = json_hex4(p);
            if (code >= 0xD800 && code < 0xE000)
                json_fail(p, "surrogate \\u escapes are not supported");
            append_utf8(out, &n, code);
        } else
            json_fail(p, "invalid escape");
    }
    return out;
}

static void json_parse_value(JsonParser *p, JsonValue *value);

static void json_add_item(JsonValue *container, size_t *capacity)
{
    if (container->count == *capacity) {
        *capacity = *capacity ? 2 * *capacity : 8;
        container->items = realloc(container->items, *capacity * sizeof *container->items);
        container->keys = realloc(container->keys, *capacity * sizeof *container->keys);
        if (!container->items || !container->keys)
            die("out of memory parsing JSON");
    }
    container->keys[container->count] = NULL;
    container->count++;
}

static void json_parse_container(JsonParser *p, JsonValue *value, int is_object)
{
    char close = is_object ? '}' : ']';
    size_t capacity = 0;
    value->kind = is_object ? JSON_OBJECT : JSON_ARRAY;
    p->pos++;
    if (json_peek(p) == close) {
        p->pos++;
        return;
    }
    for (;;) {
        json_add_item(value, &capacity);
        size_t last = value->count - 1;
        if (is_object) {
            if (json_peek(p) != '"')
                json_fail(p, "expected a string key");
            value->keys[last] = json_parse_string(p);
            json_expect(p, ':');
        }
        json_parse_value(p, &value->items[last]);
        int next = json_peek(p);
        p->pos++;
        if (next == close)
            return;
        if (next != ',')
            json_fail(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static void json_parse_number(JsonParser *p, JsonValue *value)
{
    size_t start = p->pos;
    while (p->pos < p->length && p->text[p->pos] && strchr("+-0123456789.eE", p->text[p->pos]))
        p->pos++;
    if (p->pos == start)
        json_fail(p, "unexpected character");
    value->kind = JSON_NUMBER;
    value->text = xstrndup(p->text + start, p->pos - start);
}

static void json_parse_literal(JsonParser *p, JsonValue *value, const char *word, JsonKind kind)
{
    size_t n = strlen(word);
    if (p->pos + n > p->length || strncmp(p->text + p->pos, word, n) != 0)
        json_fail(p, "unexpected character");
    p->pos += n;
    value->kind = kind;
    value->text = xstrndup(word, n);
}

static void json_parse_value(JsonParser *p, JsonValue *value)
{
    memset(value, 0, sizeof *value);
    int c = json_peek(p);
    if (c == '{' || c == '[')
        json_parse_container(p, value, c == '{');
    else if (c == '"') {
        value->kind = JSON_STRING;
        value->text = json_parse_string(p);
    } else if (c == 't')
        json_parse_literal(p, value, "true", JSON_BOOL);
    else if (c == 'f')
        json_parse_literal(p, value, "false", JSON_BOOL);
    else if (c == 'n')
        json_parse_literal(p, value, "null", JSON_NULL);
    else if (c == -1)
        json_fail(p, "unexpected end of text");
    else
        json_parse_number(p, value);
}

static JsonValue json_parse(const char *text, size_t length, const char *what)
{
    JsonParser parser = {text, length, 0, what};
    JsonValue value;
    json_parse_value(&parser, &value);
    if (json_peek(&parser) != -1)
        json_fail(&parser, "trailing characters after the value");
    return value;
}

static const JsonValue *json_get(const JsonValue *object, const char *key)
{
    for (size_t i = 0; object->kind == JSON_OBJECT && i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    return NULL;
}

/* Reads a non-negative integer written without fraction or exponent. */
static uint64_t parse_unsigned(const char *text, const char *what)
{
    if (!text || !*text || strspn(text, "0123456789") != strlen(text))
        die("%s must be a non-negative integer, got '%s'", what, text ? text : "(missing)");
    errno = 0;
    unsigned long long value = strtoull(text, NULL, 10);
    if (errno == ERANGE)
        die("%s is out of range: %s", what, text);
    return (uint64_t)value;
}

static const JsonValue *json_require(const JsonValue *object, const char *key, JsonKind kind,
                                     const char *where)
{
    const JsonValue *value = json_get(object, key);
    if (!value)
        die("%s has no key '%s'", where, key);
    if (value->kind != kind)
        die("%s key '%s' has the wrong JSON type", where, key);
    return value;
}

static double json_require_double(const JsonValue *object, const char *key, const char *where)
{
    const JsonValue *value = json_require(object, key, JSON_NUMBER, where);
    char *end;
    double number = strtod(value->text, &end);
    if (*end)
        die("%s key '%s' is not a number: %s", where, key, value->text);
    return number;
}

/* ---------------------------------------------------------- Checkpoint --- */

#define MAX_RANK 4

typedef struct {
    char *name;
    int rank;
    int64_t shape[MAX_RANK];
    size_t count;             /* number of float32 elements */
    float *data;
} Tensor;

typedef struct {
    int d_model, n_heads, n_layers, n_experts, top_k, expert_hidden, seq_len;
} ModelConfig;

typedef struct {
    double learning_rate, warmup_fraction, min_lr_ratio, weight_decay;
    uint64_t steps, seed;
} TrainingConfig;

typedef struct {
    const char *path;
    Tensor *tensors;
    size_t tensor_count;
    ModelConfig config;
    TrainingConfig training;
    uint64_t step;
} Checkpoint;

static float load_f32_le(const unsigned char *bytes)
{
    uint32_t bits = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
                    (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static void read_tensor_entry(Tensor *t, const char *name, const JsonValue *entry,
                              const unsigned char *data, uint64_t data_length, const char *path)
{
    char where[512];
    snprintf(where, sizeof where, "%s: tensor '%s'", path, name);
    const JsonValue *dtype = json_require(entry, "dtype", JSON_STRING, where);
    const JsonValue *shape = json_require(entry, "shape", JSON_ARRAY, where);
    const JsonValue *offsets = json_require(entry, "data_offsets", JSON_ARRAY, where);
    if (strcmp(dtype->text, "F32") != 0)
        die("%s has dtype %s, but only F32 is supported", where, dtype->text);
    if (shape->count > MAX_RANK || offsets->count != 2)
        die("%s has an invalid shape or data_offsets", where);

    t->name = xstrndup(name, strlen(name));
    t->rank = (int)shape->count;
    t->count = 1;
    for (int i = 0; i < t->rank; i++) {
        if (shape->items[i].kind != JSON_NUMBER)
            die("%s has a non-numeric shape", where);
        t->shape[i] = (int64_t)parse_unsigned(shape->items[i].text, where);
        t->count *= (size_t)t->shape[i];
    }
    uint64_t begin = parse_unsigned(offsets->items[0].text, where);
    uint64_t end = parse_unsigned(offsets->items[1].text, where);
    if (begin > end || end > data_length)
        die("%s has data_offsets [%llu, %llu] outside the %llu-byte data region", where,
            (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_length);
    if (end - begin != 4 * (uint64_t)t->count)
        die("%s: data_offsets cover %llu bytes but the shape needs %zu", where,
            (unsigned long long)(end - begin), 4 * t->count);

    t->data = xcalloc(t->count, sizeof(float));
    for (size_t i = 0; i < t->count; i++)
        t->data[i] = load_f32_le(data + begin + 4 * i);
}

static int read_config_int(const JsonValue *config, const char *key, const char *path)
{
    char where[512];
    snprintf(where, sizeof where, "%s: metadata 'config'", path);
    const JsonValue *value = json_require(config, key, JSON_NUMBER, where);
    uint64_t number = parse_unsigned(value->text, key);
    if (number < 1 || number > 1000000)
        die("%s: config %s = %llu is outside 1 ... 1000000", path, key, (unsigned long long)number);
    return (int)number;
}

static const char *require_metadata(const JsonValue *metadata, const char *key, const char *path)
{
    char where[512];
    snprintf(where, sizeof where, "%s: __metadata__", path);
    return json_require(metadata, key, JSON_STRING, where)->text;
}

static void read_model_config(Checkpoint *c, const JsonValue *metadata)
{
    const char *text = require_metadata(metadata, "config", c->path);
    JsonValue json = json_parse(text, strlen(text), "metadata 'config'");
    ModelConfig *m = &c->config;
    m->d_model = read_config_int(&json, "d_model", c->path);
    m->n_heads = read_config_int(&json, "n_heads", c->path);
    m->n_layers = read_config_int(&json, "n_layers", c->path);
    m->n_experts = read_config_int(&json, "n_experts", c->path);
    m->top_k = read_config_int(&json, "top_k", c->path);
    m->expert_hidden = read_config_int(&json, "expert_hidden", c->path);
    m->seq_len = read_config_int(&json, "seq_len", c->path);
    if (m->d_model % m->n_heads != 0 || (m->d_model / m->n_heads) % 2 != 0)
        die("%s: d_model %d / n_heads %d must be an even integer", c->path, m->d_model, m->n_heads);
    if (m->top_k > m->n_experts)
        die("%s: top_k %d exceeds n_experts %d", c->path, m->top_k, m->n_experts);
}

static void read_training_config(Checkpoint *c, const JsonValue *metadata)
{
    const char *text = require_metadata(metadata, "training", c->path);
    JsonValue json = json_parse(text, strlen(text), "metadata 'training'");
    char where[512];
    snprintf(where, sizeof where, "%s: metadata 'training'", c->path);
    TrainingConfig *t = &c->training;
    t->learning_rate = json_require_double(&json, "learning_rate", where);
    t->warmup_fraction = json_require_double(&json, "warmup_fraction", where);
    t->min_lr_ratio = json_require_double(&json, "min_lr_ratio", where);
    t->weight_decay = json_require_double(&json, "weight_decay", where);
    t->steps = parse_unsigned(json_require(&json, "steps", JSON_NUMBER, where)->text, "training.steps");
    t->seed = parse_unsigned(json_require(&json, "seed", JSON_NUMBER, where)->text, "training.seed");
}

static void read_metadata(Checkpoint *c, const JsonValue *metadata)
{
    if (!metadata || metadata->kind != JSON_OBJECT)
        die("%s has no __metadata__ object, so it is not a pcmoe checkpoint", c->path);
    const char *format = require_metadata(metadata, "format", c->path);
    const char *version = require_metadata(metadata, "format_version", c->path);
    if (strcmp(format, "pcmoe-checkpoint") != 0)
        die("%s: metadata format is '%s', expected 'pcmoe-checkpoint'", c->path, format);
    if (strcmp(version, "1") != 0)
        die("%s: format_version '%s' is not supported (only 1 is)", c->path, version);
    c->step = parse_unsigned(require_metadata(metadata, "step", c->path), "metadata 'step'");
    read_model_config(c, metadata);
    read_training_config(c, metadata);
}

static Checkpoint load_checkpoint(const char *path)
{
    Checkpoint c = {0};
    c.path = path;
    size_t file_length;
    unsigned char *file = read_whole_file(path, &file_length);
    if (file_length < 8)
        die("%s is %zu bytes long, too short for a safetensors header", path, file_length);
    uint64_t header_length = 0;
    for (int i = 7; i >= 0; i--)
        header_length = header_length << 8 | file[i];
    if (header_length > file_length - 8)
        die("%s: header length %llu exceeds the file size %zu", path,
            (unsigned long long)header_length, file_length);

    JsonValue header = json_parse((const char *)file + 8, header_length, path);
    if (header.kind != JSON_OBJECT)
        die("%s: the safetensors header is not a JSON object", path);
    const unsigned char *data = file + 8 + header_length;
    uint64_t data_length = file_length - 8 - header_length;

    c.tensors = xcalloc(header.count, sizeof *c.tensors);
    for (size_t i = 0; i < header.count; i++) {
        if (strcmp(header.keys[i], "__metadata__") == 0)
            continue;
        read_tensor_entry(&c.tensors[c.tensor_count++], header.keys[i], &header.items[i],
                          data, data_length, path);
    }
    read_metadata(&c, json_get(&header, "__metadata__"));
    free(file);
    return c;
}

static Tensor *find_tensor(const Checkpoint *c, const char *name)
{
    for (size_t i = 0; i < c->tensor_count; i++)
        if (strcmp(c->tensors[i].name, name) == 0)
            return &c->tensors[i];
    return NULL;
}

/* Returns the data of tensor `name`, which must have shape [rows] when
 * cols is 0 and [rows, cols] otherwise. */
static float *require_tensor(const Checkpoint *c, const char *name, int64_t rows, int64_t cols)
{
    Tensor *t = find_tensor(c, name);
    if (!t)
        die("%s has no tensor '%s'", c->path, name);
    int want_rank = cols ? 2 : 1;
    int ok = t->rank == want_rank && t->shape[0] == rows && (!cols || t->shape[1] == cols);
    if (!ok)
        die("%s: tensor '%s' has the wrong shape (expected [%lld%s%lld])", c->path, name,
            (long long)rows, cols ? ", " : "", (long long)(cols ? cols : 0));
    return t->data;
}

/* -------------------------------------------------------------- Model --- */

typedef struct {
    float *attn_norm, *wq, *wk, *wv, *wo;
    float *moe_norm, *router;
    float **gate, **up, **down;   /* one pointer per expert */
} Layer;

typedef struct {
    ModelConfig config;
    float *tok_emb, *final_norm, *lm_head;
    Layer *layers;
} Model;

static float *require_layer_tensor(const Checkpoint *c, int layer, const char *suffix,
                                   int64_t rows, int64_t cols)
{
    char name[256];
    snprintf(name, sizeof name, "layers.%d.%s", layer, suffix);
    return require_tensor(c, name, rows, cols);
}

static void bind_layer(Layer *layer, const Checkpoint *c, int i)
{
    const ModelConfig *m = &c->config;
    int d = m->d_model, f = m->expert_hidden, experts = m->n_experts;
    layer->attn_norm = require_layer_tensor(c, i, "attn_norm.weight", d, 0);
    layer->wq = require_layer_tensor(c, i, "attn.wq", d, d);
    layer->wk = require_layer_tensor(c, i, "attn.wk", d, d);
    layer->wv = require_layer_tensor(c, i, "attn.wv", d, d);
    layer->wo = require_layer_tensor(c, i, "attn.wo", d, d);
    layer->moe_norm = require_layer_tensor(c, i, "moe_norm.weight", d, 0);
    layer->router = require_layer_tensor(c, i, "moe.router", d, experts);
    layer->gate = xcalloc((size_t)experts, sizeof(float *));
    layer->up = xcalloc((size_t)experts, sizeof(float *));
    layer->down = xcalloc((size_t)experts, sizeof(float *));
    for (int e = 0; e < experts; e++) {
        char suffix[64];
        snprintf(suffix, sizeof suffix, "moe.experts.%d.gate", e);
        layer->gate[e] = require_layer_tensor(c, i, suffix, d, f);
        snprintf(suffix, sizeof suffix, "moe.experts.%d.up", e);
        layer->up[e] = require_layer_tensor(c, i, suffix, d, f);
        snprintf(suffix, sizeof suffix, "moe.experts.%d.down", e);
        layer->down[e] = require_layer_tensor(c, i, suffix, f, d);
    }
}

static Model bind_model(const Checkpoint *c)
{
    Model model;
    model.config = c->config;
    int d = c->config.d_model;
    model.tok_emb = require_tensor(c, "tok_emb", VOCAB, d);
    model.final_norm = require_tensor(c, "final_norm.weight", d, 0);
    model.lm_head = require_tensor(c, "lm_head", d, VOCAB);
    model.layers = xcalloc((size_t)c->config.n_layers, sizeof(Layer));
    for (int i = 0; i < c->config.n_layers; i++)
        bind_layer(&model.layers[i], c, i);
    return model;
}

/* ------------------------------------------------------------ Kernels --- */

/* x [n, in], w [in, out] -> y [n, out], y = x·w. */
static void matmul(const float *x, const float *w, float *y, int n, int in, int out)
{
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < out; j++) {
            double sum = 0;
            for (int i = 0; i < in; i++)
                sum += (double)x[(size_t)r * in + i] * w[(size_t)i * out + j];
            y[(size_t)r * out + j] = (float)sum;
        }
    }
}

/* x [n, d], weight [d] -> y [n, d]. */
static void rms_norm(const float *x, const float *weight, float *y, int n, int d)
{
    for (int r = 0; r < n; r++) {
        const float *row = x + (size_t)r * d;
        double sum_squares = 0;
        for (int i = 0; i < d; i++)
            sum_squares += (double)row[i] * row[i];
        double scale = 1.0 / sqrt(sum_squares / d + RMS_EPS);
        for (int i = 0; i < d; i++)
            y[(size_t)r * d + i] = (float)(row[i] * scale * weight[i]);
    }
}

/* x [n, m] in place: softmax of each row, after subtracting its maximum. */
static void softmax_rows(float *x, int n, int m)
{
    for (int r = 0; r < n; r++) {
        float *row = x + (size_t)r * m;
        float max = row[0];
        for (int i = 1; i < m; i++)
            if (row[i] > max)
                max = row[i];
        double sum = 0;
        for (int i = 0; i < m; i++)
            sum += exp((double)row[i] - max);
        for (int i = 0; i < m; i++)
            row[i] = (float)(exp((double)row[i] - max) / sum);
    }
}

/* x [T, d] in place, heads of width hd: rotate-half rotary embedding, with
 * angles, cosines and sines in double rounded to float32 like pcmoe. */
static void apply_rotary(float *x, int seq, int d, int hd)
{
    int half = hd / 2;
    for (int t = 0; t < seq; t++) {
        for (int i = 0; i < half; i++) {
            double inv_freq = pow(ROPE_BASE, -2.0 * i / hd);
            double angle = t * inv_freq;
            float c = (float)cos(angle), s = (float)sin(angle);
            for (int head = 0; head < d / hd; head++) {
                float *u = x + (size_t)t * d + (size_t)head * hd;
                float a = u[i], b = u[i + half];
                u[i] = a * c - b * s;
                u[i + half] = b * c + a * s;
            }
        }
    }
}

/* q, k, v [T, d]; head `head` of width hd -> o [T, d] (that head's columns). */
static void attend_one_head(const float *q, const float *k, const float *v, float *o,
                            int seq, int d, int hd, int head)
{
    float *scores = xcalloc((size_t)seq, sizeof(float));
    size_t column = (size_t)head * hd;
    double scale = 1.0 / sqrt((double)hd);
    for (int t = 0; t < seq; t++) {
        for (int s = 0; s <= t; s++) {
            double dot = 0;
            for (int i = 0; i < hd; i++)
                dot += (double)q[(size_t)t * d + column + i] * k[(size_t)s * d + column + i];
            scores[s] = (float)(dot * scale);
        }
        softmax_rows(scores, 1, t + 1);
        for (int i = 0; i < hd; i++) {
            double sum = 0;
            for (int s = 0; s <= t; s++)
                sum += (double)scores[s] * v[(size_t)s * d + column + i];
            o[(size_t)t * d + column + i] = (float)sum;
        }
    }
    free(scores);
}

/* h [T, d] (normed) -> out [T, d] = Attn(h). */
static void attention(const Layer *layer, const float *h, float *out, int seq, int d, int heads)
{
    int hd = d / heads;
    size_t size = (size_t)seq * d;
    float *q = xcalloc(size, sizeof(float)), *k = xcalloc(size, sizeof(float));
    float *v = xcalloc(size, sizeof(float)), *o = xcalloc(size, sizeof(float));
    matmul(h, layer->wq, q, seq, d, d);
    matmul(h, layer->wk, k, seq, d, d);
    matmul(h, layer->wv, v, seq, d, d);
    apply_rotary(q, seq, d, hd);
    apply_rotary(k, seq, d, hd);
    for (int head = 0; head < heads; head++)
        attend_one_head(q, k, v, o, seq, d, hd, head);
    matmul(o, layer->wo, out, seq, d, d);
    free(q);
    free(k);
    free(v);
    free(o);
}

/* p [E] -> picked [k]: indices of the k largest, descending, ties to the
 * lower index. */
static void pick_top_k(const float *p, int experts, int k, int *picked)
{
    for (int slot = 0; slot < k; slot++) {
        int best = -1;
        for (int e = 0; e < experts; e++) {
            int already_picked = 0;
            for (int s = 0; s < slot; s++)
                already_picked |= picked[s] == e;
            if (!already_picked && (best < 0 || p[e] > p[best]))
                best = e;
        }
        picked[slot] = best;
    }
}

/* row [d] -> out [d] += weight · expert(row); gate, up [d, f], down [f, d]. */
static void add_expert(const float *row, const float *gate, const float *up, const float *down,
                       float weight, float *out, int d, int f)
{
    float *hidden = xcalloc((size_t)f, sizeof(float));
    float *gate_out = xcalloc((size_t)f, sizeof(float));
    float *up_out = xcalloc((size_t)f, sizeof(float));
    float *expert_out = xcalloc((size_t)d, sizeof(float));
    matmul(row, gate, gate_out, 1, d, f);
    matmul(row, up, up_out, 1, d, f);
    for (int j = 0; j < f; j++) {
        double a = gate_out[j];
        hidden[j] = (float)(a / (1.0 + exp(-a)) * up_out[j]);
    }
    matmul(hidden, down, expert_out, 1, f, d);
    for (int i = 0; i < d; i++)
        out[i] += weight * expert_out[i];
    free(hidden);
    free(gate_out);
    free(up_out);
    free(expert_out);
}

/* h [T, d] (normed) -> out [T, d] = MoE(h); router [d, E]. */
static void mixture_of_experts(const Layer *layer, const ModelConfig *m, const float *h,
                               float *out, int seq)
{
    int d = m->d_model, experts = m->n_experts, k = m->top_k;
    float *p = xcalloc((size_t)seq * experts, sizeof(float));
    int *picked = xcalloc((size_t)k, sizeof(int));
    matmul(h, layer->router, p, seq, d, experts);
    softmax_rows(p, seq, experts);
    memset(out, 0, (size_t)seq * d * sizeof(float));
    for (int t = 0; t < seq; t++) {
        const float *probabilities = p + (size_t)t * experts;
        pick_top_k(probabilities, experts, k, picked);
        double total = 0;
        for (int slot = 0; slot < k; slot++)
            total += probabilities[picked[slot]];
        for (int slot = 0; slot < k; slot++) {
            int e = picked[slot];
            float weight = (float)(probabilities[e] / total);
            add_expert(h + (size_t)t * d, layer->gate[e], layer->up[e], layer->down[e], weight,
                       out + (size_t)t * d, d, m->expert_hidden);
        }
    }
    free(p);
    free(picked);
}

/* x [T, d] += sublayer output [T, d]. */
static void add_in_place(float *x, const float *delta, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x[i] += delta[i];
}

/* bytes [T] -> logits [T, 256]. */
static void forward(const Model *model, const unsigned char *bytes, int seq, float *logits)
{
    const ModelConfig *m = &model->config;
    int d = m->d_model;
    size_t size = (size_t)seq * d;
    float *x = xcalloc(size, sizeof(float)), *h = xcalloc(size, sizeof(float));
    float *delta = xcalloc(size, sizeof(float));
    for (int t = 0; t < seq; t++)
        memcpy(x + (size_t)t * d, model->tok_emb + (size_t)bytes[t] * d, (size_t)d * sizeof(float));
    for (int l = 0; l < m->n_layers; l++) {
        const Layer *layer = &model->layers[l];
        rms_norm(x, layer->attn_norm, h, seq, d);
        attention(layer, h, delta, seq, d, m->n_heads);
        add_in_place(x, delta, size);
        rms_norm(x, layer->moe_norm, h, seq, d);
        mixture_of_experts(layer, m, h, delta, seq);
        add_in_place(x, delta, size);
    }
    rms_norm(x, model->final_norm, h, seq, d);
    matmul(h, model->lm_head, logits, seq, d, VOCAB);
    free(x);
    free(h);
    free(delta);
}

static void write_logits(const char *path, const float *logits, size_t count)
{
    FILE *file = fopen(path, "wb");
    if (!file)
        die("cannot create %s: %s", path, strerror(errno));
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &logits[i], sizeof bits);
        unsigned char bytes[4] = {(unsigned char)bits, (unsigned char)(bits >> 8),
                                  (unsigned char)(bits >> 16), (unsigned char)(bits >> 24)};
        if (fwrite(bytes, 1, 4, file) != 4)
            die("failed to write %s: %s", path, strerror(errno));
    }
    if (fclose(file) != 0)
        die("failed to write %s: %s", path, strerror(errno));
}

static int run_forward(const char *checkpoint_path, const char *input_path, const char *out_path)
{
    Checkpoint checkpoint = load_checkpoint(checkpoint_path);
    Model model = bind_model(&checkpoint);
    size_t length;
    unsigned char *bytes = read_whole_file(input_path, &length);
    if (length < 1 || length > (size_t)checkpoint.config.seq_len)
        die("%s is %zu bytes long, but the input must be 1 to seq_len = %d bytes", input_path,
            length, checkpoint.config.seq_len);
    float *logits = xcalloc(length * VOCAB, sizeof(float));
    forward(&model, bytes, (int)length, logits);
    write_logits(out_path, logits, length * VOCAB);
    return 0;
}

/* ----------------------------------------------------- Initialisation --- */

typedef struct {
    uint64_t state;
} SplitMix64;

static uint64_t splitmix_next(SplitMix64 *g)
{
    g->state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = g->state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a_64(const char *text)
{
    uint64_t hash = 0xCBF29CE484222325ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        hash ^= *p;
        hash *= 0x100000001B3ULL;
    }
    return hash;
}

static SplitMix64 tensor_stream(uint64_t seed, const char *name)
{
    SplitMix64 seeder = {seed ^ fnv1a_64(name)};
    SplitMix64 stream = {splitmix_next(&seeder)};
    return stream;
}

static double next_uniform(SplitMix64 *g)
{
    return (double)(splitmix_next(g) >> 11) * 0x1.0p-53;
}

static float next_init_normal(SplitMix64 *g)
{
    double u1 = next_uniform(g);
    double u2 = next_uniform(g);
    double normal = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * PI * u2);
    return (float)(normal * INIT_STD);
}

static int is_norm_weight(const char *name)
{
    size_t n = strlen(name);
    const char *suffix = "_norm.weight";
    return n >= strlen(suffix) && strcmp(name + n - strlen(suffix), suffix) == 0;
}

/* Returns the optimizer moment `kind` ("m" or "v") of tensor `name`. */
static const Tensor *require_moment(const Checkpoint *c, const char *kind, const Tensor *t)
{
    char name[512];
    snprintf(name, sizeof name, "optimizer.%s.%s", kind, t->name);
    const Tensor *moment = find_tensor(c, name);
    if (!moment || moment->count != t->count)
        die("%s has no optimizer state '%s' of the shape of '%s'", c->path, name, t->name);
    return moment;
}

/* Returns the learning rate of step s (counted from 1): linear warm-up to the
 * peak, then cosine decay to min_lr_ratio times the peak. */
static double learning_rate_at(const TrainingConfig *t, uint64_t step)
{
    double peak = t->learning_rate, floor_rate = t->min_lr_ratio * peak;
    double warmup = round(t->warmup_fraction * (double)t->steps);
    if ((double)step <= warmup)
        return peak * (double)step / warmup;
    double progress = ((double)step - warmup) / ((double)t->steps - warmup);
    return floor_rate + (peak - floor_rate) * 0.5 * (1.0 + cos(PI * progress));
}

/* Rebuilds the weights before the first AdamW step (t = 1, where the bias
 * corrections make m̂ = g and v̂ = g²) from the weights and moments after it. */
static double undo_first_step(double weight, double m, double v, double rate, double decay)
{
    double m_hat = m / (1.0 - ADAM_BETA1), v_hat = v / (1.0 - ADAM_BETA2);
    double before_decay = weight + rate * m_hat / (sqrt(v_hat) + ADAM_EPS);
    return before_decay / (1.0 - rate * decay);
}

/* Compares one checkpoint tensor with its initial values; returns the largest
 * absolute difference. */
static double compare_initial_tensor(const Checkpoint *c, const Tensor *t, double rate, int values_to_print)
{
    const Tensor *m = c->step == 1 ? require_moment(c, "m", t) : NULL;
    const Tensor *v = c->step == 1 ? require_moment(c, "v", t) : NULL;
    int norm = is_norm_weight(t->name);
    double decay = norm ? 0.0 : c->training.weight_decay;
    SplitMix64 stream = tensor_stream(c->training.seed, t->name);
    double max_difference = 0;
    for (size_t i = 0; i < t->count; i++) {
        float expected = norm ? 1.0f : next_init_normal(&stream);
        double found = t->data[i];
        if (m)
            found = undo_first_step(found, m->data[i], v->data[i], rate, decay);
        double difference = fabs(found - expected);
        if (difference > max_difference)
            max_difference = difference;
        if ((int)i < values_to_print)
            printf("  %-36s [%zu]  generated % .9e  checkpoint % .9e\n", t->name, i, expected, found);
    }
    return max_difference;
}

static int should_print(const char *name)
{
    return strcmp(name, "tok_emb") == 0 || strcmp(name, "layers.0.moe.experts.1.gate") == 0 ||
           strcmp(name, "lm_head") == 0 || strcmp(name, "layers.0.attn_norm.weight") == 0;
}

static int run_init_check(const char *checkpoint_path, int values_to_print, double tolerance)
{
    Checkpoint c = load_checkpoint(checkpoint_path);
    if (c.step > 1)
        die("%s is at step %llu; the init check needs a checkpoint at step 0 or 1", c.path,
            (unsigned long long)c.step);
    double rate = c.step == 1 ? learning_rate_at(&c.training, 1) : 0.0;
    printf("seed %llu, step %llu, learning rate of step 1 %.6e\n",
           (unsigned long long)c.training.seed, (unsigned long long)c.step, rate);
    double worst = 0;
    const char *worst_name = "";
    for (size_t i = 0; i < c.tensor_count; i++) {
        const Tensor *t = &c.tensors[i];
        if (strncmp(t->name, "optimizer.", 10) == 0)
            continue;
        double difference = compare_initial_tensor(&c, t, rate, should_print(t->name) ? values_to_print : 0);
        if (difference > worst) {
            worst = difference;
            worst_name = t->name;
        }
    }
    printf("largest absolute difference from the initialisation: %.3e (%s)\n", worst,
           worst > 0 ? worst_name : "all equal");
    return worst > tolerance;
}

/* --------------------------------------------------------------- main --- */

static void usage(void)
{
    fputs("usage: model_reference CHECKPOINT INPUT_BYTES_FILE OUT_LOGITS_FILE\n"
          "       model_reference init CHECKPOINT [COUNT [TOLERANCE]]\n"
          "The first form writes the logits of the input bytes as rows of 256 float32.\n"
          "The init form checks the checkpoint's weights (step 0, or step 1 taken back\n"
          "through AdamW) against the initialisation of the seed and exits 1 when one\n"
          "differs by more than TOLERANCE (absolute, default 1e-7).\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && argc <= 5 && strcmp(argv[1], "init") == 0) {
        uint64_t count = argc >= 4 ? parse_unsigned(argv[3], "COUNT") : 4;
        double tolerance = 1e-7;
        if (argc >= 5) {
            char *end;
            tolerance = strtod(argv[4], &end);
            if (*end || !(tolerance >= 0))
                die("TOLERANCE must be a non-negative number, got '%s'", argv[4]);
        }
        return run_init_check(argv[2], count > 1000000 ? 1000000 : (int)count, tolerance);
    }
    if (argc != 4)
        usage();
    return run_forward(argv[1], argv[2], argv[3]);
}
