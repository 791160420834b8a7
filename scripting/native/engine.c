/*
 * redeno's Lua engine: Redis's Lua 5.1 (vendor/lua) compiled to WebAssembly, with the glue
 * between scripts and the server. The server side (scripting/engine.ts) executes the commands a
 * script calls; this file owns the Lua states, the compiled-script cache, the Lua <-> RESP
 * conversions and the sandbox, following the behaviour of Redis 7.0.
 *
 * Two states, as in Redis: engine 0 runs EVAL scripts, engine 1 holds FUNCTION libraries.
 *
 * Data crosses the boundary through three buffers in linear memory:
 * - io:    JS -> C script bodies and KEYS/ARGV; C -> JS results (RESP, see encode_value)
 * - argb:  C -> JS the arguments of redis.call ([u32 len][bytes] each)
 * - reply: JS -> C the RESP reply of redis.call
 *
 * A script runs in a coroutine so that the count hook can yield it when it has run longer than
 * busy-reply-threshold: the server then answers other clients with BUSY (and accepts SCRIPT
 * KILL) between slices, as Redis does from its hook.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "lstate.h"
#include "lgc.h"
#include "lstring.h"
#include "ltable.h"

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* ---- host functions (scripting/engine.ts) ------------------------------------------------- */

/* Runs a command: args in argb. mode 0 call, 1 pcall, 2 ACL check. Returns the reply length
 * written to the reply buffer (modes 0-1) or 1/0/-1 allowed/denied/unknown (mode 2). */
IMPORT(host_call) int host_call(int mode, int argc, int resp);
/* Called from the count hook: 0 go on, 1 kill (SCRIPT KILL), 2 yield, 3 load timeout. */
IMPORT(host_tick) int host_tick(void);
IMPORT(host_log) void host_log(int level, const char *msg, int len);
IMPORT(host_set_repl) void host_set_repl(int flags);
/* redis.register_function during FUNCTION LOAD: returns 0, or the length of an error message
 * written to the reply buffer. */
IMPORT(host_register) int host_register(const char *name, int name_len, const char *desc,
                                        int desc_len, int flags, int ref);
/* CPU seconds this process has used (user and system), for os.clock(). */
IMPORT(host_clock) double host_clock(void);
/* Writes a script's {double=...} as the server writes doubles (at most 63 bytes at `out`);
 * returns the length. */
IMPORT(host_format_double) int host_format_double(double d, char *out);

/* ---- setjmp/longjmp support for LLVM's WebAssembly SjLj lowering ---------------------------- */

/* clang (-mllvm -wasm-enable-sjlj) turns each function that calls setjmp (Lua's
 * luaD_rawrunprotected) into a WebAssembly try/catch of the __c_longjmp exception, and longjmp
 * into a throw of it: no call out to the host per protected call, as Emscripten-style SjLj
 * needed (a JavaScript wrapper with try/catch around each protected call, ~4% of an EVALSHA).
 * These are the helpers the lowered code calls. */

static int temp_ret0 = 0;

int getTempRet0(void) { return temp_ret0; }
void setTempRet0(int v) { temp_ret0 = v; }

typedef struct {
  uint32_t id;
  uint32_t label;
} SetjmpEntry;

static uint32_t setjmp_id = 0;

/* Records a setjmp point; the table ends with an entry whose id is 0. */
SetjmpEntry *saveSetjmp(uint32_t *env, uint32_t label, SetjmpEntry *table, uint32_t size) {
  uint32_t i;
  setjmp_id++;
  *env = setjmp_id;
  for (i = 0; i < size; i++) {
    if (table[i].id == 0) {
      table[i].id = setjmp_id;
      table[i].label = label;
      table[i + 1].id = 0;
      setTempRet0(size);
      return table;
    }
  }
  size *= 2;
  table = realloc(table, sizeof(SetjmpEntry) * (size + 1));
  table[i].id = setjmp_id;
  table[i].label = label;
  table[i + 1].id = 0;
  setTempRet0(size);
  return table;
}

uint32_t testSetjmp(uint32_t id, SetjmpEntry *table, uint32_t size) {
  for (uint32_t i = 0; i < size && table[i].id != 0; i++) {
    if (table[i].id == id) return table[i].label;
  }
  return 0;
}

/* What a longjmp throws: the catch reads the jmp_buf and the value from it. */
static struct {
  void *env;
  int val;
} longjmp_args;

void __wasm_longjmp(void *env, int val) {
  longjmp_args.env = env;
  longjmp_args.val = val ? val : 1;
  __builtin_wasm_throw(1, &longjmp_args);
}

/* ---- buffers -------------------------------------------------------------------------------- */

typedef struct {
  char *p;
  size_t len;
  size_t cap;
} Buf;

static Buf io, argb, reply;

static void buf_reserve(Buf *b, size_t extra) {
  size_t need = b->len + extra;
  if (need <= b->cap) return;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap < need) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) abort();
  b->p = p;
  b->cap = cap;
}

static void buf_put(Buf *b, const void *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void buf_line(Buf *b, char type, long long n) {
  char tmp[32];
  char *end = tmp + sizeof(tmp);
  char *p = end;
  unsigned long long v = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
  *--p = '\n';
  *--p = '\r';
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (n < 0) *--p = '-';
  *--p = type;
  buf_put(b, p, (size_t)(end - p));
}

/* The running script's arguments (KEYS then ARGV, the first RUN_ARGS_MAX) where the host
 * packed them in io: a redis.call argument with the same bytes goes back to the host as the
 * argument's index instead of its bytes, and the host uses the string it has (scripts pass
 * their KEYS and ARGV to redis.call; a byte loop in JavaScript costs ~3 ns a byte). Kept until
 * io is written again: the run's end, or the host asking for io (rd_io). */
#define RUN_ARGS_MAX 16
static const char *run_arg_p[RUN_ARGS_MAX];
static uint32_t run_arg_len[RUN_ARGS_MAX];
static int run_arg_n = 0;

static void record_run_args(const char *p, int n) {
  if (n > RUN_ARGS_MAX) n = RUN_ARGS_MAX;
  for (int i = 0; i < n; i++) {
    uint32_t len;
    memcpy(&len, p, 4);
    run_arg_p[i] = p + 4;
    run_arg_len[i] = len;
    p += 4 + len;
  }
  run_arg_n = n;
}

/* The index of the running script's argument with these bytes, or -1. */
static int find_run_arg(const char *s, size_t len) {
  for (int i = 0; i < run_arg_n; i++) {
    if (run_arg_len[i] == len && memcmp(run_arg_p[i], s, len) == 0) return i;
  }
  return -1;
}

EXPORT(rd_io) char *rd_io(int size) {
  run_arg_n = 0;
  io.len = 0;
  buf_reserve(&io, (size_t)size + 1);
  return io.p;
}

/* The Buf of io (0), argb (1) or reply (2): the host reads their {p, len, cap} in place instead
 * of calling in for each (a call into the module costs more than the read). */
EXPORT(rd_buf) Buf *rd_buf(int which) { return which == 0 ? &io : which == 1 ? &argb : &reply; }

/* A fixed area for the name of the script or function to run (NUL-terminated). */
EXPORT(rd_name) char *rd_name(void) {
  static char name[1024];
  return name;
}

/* Length of the redis.call reply the host last wrote into `reply`, 0 when `reply` may hold
 * anything else. */
static int last_reply_len = 0;
/* Set by a run ending with a bulk string result whose bytes are the bulk string reply in
 * `reply`: the host made that reply from a string it still has, and takes it instead of
 * decoding the result's bytes again (a script returning what redis.call returned). */
static int result_is_reply = 0;

EXPORT(rd_result_flag) int *rd_result_flag(void) { return &result_is_reply; }

EXPORT(rd_reply) char *rd_reply(int size) {
  last_reply_len = 0;
  reply.len = 0;
  buf_reserve(&reply, (size_t)size + 1);
  return reply.p;
}

/* ---- Redis's lrand48 for math.random -------------------------------------------------------- */

static uint64_t rand48 = 0x1234ABCD330EULL;

static int32_t lrand48_next(void) {
  rand48 = (rand48 * 0x5DEECE66DULL + 0xB) & 0xFFFFFFFFFFFFULL;
  return (int32_t)(rand48 >> 17);
}

/* ---- SHA-1 for redis.sha1hex ---------------------------------------------------------------- */

static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++) {
    w[i] = ((uint32_t)p[i * 4] << 24) | ((uint32_t)p[i * 4 + 1] << 16) |
           ((uint32_t)p[i * 4 + 2] << 8) | (uint32_t)p[i * 4 + 3];
  }
  for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    uint32_t t = rol(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

static void sha1hex(char out[41], const char *s, size_t len) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t block[64];
  size_t i = 0;
  for (; i + 64 <= len; i += 64) sha1_block(h, (const uint8_t *)s + i);
  size_t rest = len - i;
  memset(block, 0, 64);
  memcpy(block, s + i, rest);
  block[rest] = 0x80;
  if (rest >= 56) {
    sha1_block(h, block);
    memset(block, 0, 64);
  }
  uint64_t bits = (uint64_t)len * 8;
  for (int j = 0; j < 8; j++) block[63 - j] = (uint8_t)(bits >> (j * 8));
  sha1_block(h, block);
  static const char hex[] = "0123456789abcdef";
  for (int j = 0; j < 20; j++) {
    uint8_t byte = (uint8_t)(h[j / 4] >> (24 - (j % 4) * 8));
    out[j * 2] = hex[byte >> 4];
    out[j * 2 + 1] = hex[byte & 15];
  }
  out[40] = 0;
}

/* ---- run state ------------------------------------------------------------------------------ */

#define ENGINE_EVAL 0
#define ENGINE_FUNCTIONS 1

static lua_State *states[2];
/* A finished coroutine is reused by the next run (creating one costs a few allocations). */
static lua_State *spare[2];
static int spare_ref[2] = {LUA_NOREF, LUA_NOREF};
/* The tables of the globals KEYS (0) and ARGV (1) of the EVAL engine when the next run may
 * refill them instead of making new ones (NULL: it makes new ones). A script cannot keep a
 * reference to them past its run (globals and libraries are read-only, and without newproxy
 * there are no finalizers), so a table it left as it found it (no metatable, nothing outside
 * the array part) is as good as a new one once its array holds the new values and nothing
 * after them. Tables past KEPT_MAX slots are not kept, so they do not hold memory. Reusing them
 * saves two tables, two global stores and their garbage per run (~6% of an EVALSHA of one GET
 * in the CPU profile). */
#define KEPT_MAX 64
static Table *kept[2];
/* The coroutine of the running script, and the engine it belongs to. */
static lua_State *running = NULL;
static int running_engine = -1;
static int running_ref = LUA_NOREF;
/* Protocol the script's commands reply in (redis.setresp) and the caller's protocol. */
static int script_resp = 2;
static int caller_resp = 2;
/* A FUNCTION LOAD in progress (redis.register_function is allowed). */
static int loading = 0;
static int in_call = 0;

#define REG_LIBRARY_API "__LIBRARY_API__"
#define REG_SCRIPT_NAMES "__SCRIPT_NAMES__"
#define REG_GLOBALS_API "__GLOBALS_API__"

/* Pushes Redis's error table: {err = "CODE message"} from "-CODE message" or "message". */
static void push_error(lua_State *L, const char *s, size_t len) {
  const char *code = "ERR";
  size_t code_len = 3;
  const char *msg = s;
  size_t msg_len = len;
  if (len > 0 && s[0] == '-') {
    const char *sp = memchr(s, ' ', len);
    if (sp) {
      code = s + 1;
      code_len = (size_t)(sp - s - 1);
      msg = sp + 1;
      msg_len = len - (size_t)(sp + 1 - s);
    } else {
      msg = s + 1;
      msg_len = len - 1;
    }
  }
  while (msg_len > 0 && (msg[msg_len - 1] == '\r' || msg[msg_len - 1] == '\n')) msg_len--;
  while (msg_len > 0 && (msg[0] == '\r' || msg[0] == '\n')) {
    msg++;
    msg_len--;
  }
  lua_newtable(L);
  lua_pushstring(L, "err");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, code, code_len);
  luaL_addchar(&b, ' ');
  luaL_addlstring(&b, msg, msg_len);
  luaL_pushresult(&b);
  lua_settable(L, -3);
}

static void push_error_str(lua_State *L, const char *s) { push_error(L, s, strlen(s)); }

static int raise_error(lua_State *L, const char *s) {
  push_error_str(L, s);
  return lua_error(L);
}

/* ---- RESP (reply of redis.call) -> Lua ----------------------------------------------------- */

typedef struct {
  const char *p;
  const char *end;
} Reader;

static long long read_num(Reader *r) {
  long long v = 0;
  int neg = 0;
  if (*r->p == '-') {
    neg = 1;
    r->p++;
  }
  while (r->p < r->end && *r->p != '\r') v = v * 10 + (*r->p++ - '0');
  r->p += 2;
  return neg ? -v : v;
}

static const char *read_line(Reader *r, size_t *len) {
  const char *s = r->p;
  while (r->p < r->end && *r->p != '\r') r->p++;
  *len = (size_t)(r->p - s);
  r->p += 2;
  return s;
}

/* Pushes {name = <table being built>}: the outer table and the inner one stay on the stack. */
static void open_wrapped(lua_State *L, const char *name) {
  lua_newtable(L);
  lua_pushstring(L, name);
  lua_newtable(L);
}

/* Pushes {name = value} with the value taken from the top of the stack. */
static void wrap_top(lua_State *L, const char *name) {
  lua_newtable(L);
  lua_pushstring(L, name);
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  lua_remove(L, -2);
}

static void check_stack(lua_State *L, int n) {
  if (!lua_checkstack(L, n)) luaL_error(L, "lua stack limit reach when parsing redis.call reply");
}

/* Parses one reply; pushes its Lua value when `push` (attributes are parsed and dropped). */
static void parse_reply(lua_State *L, Reader *r, int push) {
  char type = *r->p++;
  size_t len;
  const char *s;
  long long n;
  if (push) check_stack(L, 5);
  switch (type) {
  case ':':
    n = read_num(r);
    if (push) lua_pushnumber(L, (lua_Number)n);
    break;
  case '$':
    n = read_num(r);
    if (n < 0) {
      if (push) lua_pushboolean(L, 0);
      break;
    }
    if (push) lua_pushlstring(L, r->p, (size_t)n);
    r->p += n + 2;
    break;
  case '+':
    s = read_line(r, &len);
    if (push) {
      lua_pushlstring(L, s, len);
      wrap_top(L, "ok");
    }
    break;
  case '-':
    s = read_line(r, &len);
    if (push) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      luaL_addchar(&b, '-');
      luaL_addlstring(&b, s, len);
      luaL_pushresult(&b);
      size_t full_len;
      const char *full = lua_tolstring(L, -1, &full_len);
      push_error(L, full, full_len);
      lua_remove(L, -2);
      lua_pushstring(L, "ignore_error_stats_update");
      lua_pushboolean(L, 1);
      lua_settable(L, -3);
    }
    break;
  case '*':
  case '>':
    n = read_num(r);
    if (n < 0) {
      if (push) lua_pushboolean(L, 0);
      break;
    }
    if (push) lua_createtable(L, (int)n, 0);
    for (long long j = 0; j < n; j++) {
      if (push) lua_pushnumber(L, (lua_Number)(j + 1));
      parse_reply(L, r, push);
      if (push) lua_settable(L, -3);
    }
    break;
  case '%':
    n = read_num(r);
    if (push) open_wrapped(L, "map");
    for (long long j = 0; j < n; j++) {
      parse_reply(L, r, push);
      parse_reply(L, r, push);
      if (push) lua_settable(L, -3);
    }
    if (push) lua_settable(L, -3);
    break;
  case '~':
    n = read_num(r);
    if (push) open_wrapped(L, "set");
    for (long long j = 0; j < n; j++) {
      parse_reply(L, r, push);
      if (push) {
        check_stack(L, 1);
        lua_pushboolean(L, 1);
        lua_settable(L, -3);
      }
    }
    if (push) lua_settable(L, -3);
    break;
  case '_':
    r->p += 2;
    if (push) lua_pushnil(L);
    break;
  case '#':
    if (push) lua_pushboolean(L, *r->p == 't');
    r->p += 3;
    break;
  case ',': {
    s = read_line(r, &len);
    char tmp[64];
    if (len > 63) len = 63;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    double d;
    if (!strcmp(tmp, "inf")) d = INFINITY;
    else if (!strcmp(tmp, "-inf")) d = -INFINITY;
    else if (!strcmp(tmp, "nan")) d = NAN;
    else d = strtod(tmp, NULL);
    if (push) {
      lua_pushnumber(L, d);
      wrap_top(L, "double");
    }
    break;
  }
  case '(':
    s = read_line(r, &len);
    if (push) {
      lua_pushlstring(L, s, len);
      wrap_top(L, "big_number");
    }
    break;
  case '=':
    n = read_num(r);
    if (push) {
      lua_newtable(L);
      lua_pushstring(L, "verbatim_string");
      lua_newtable(L);
      lua_pushstring(L, "string");
      lua_pushlstring(L, r->p + 4, (size_t)(n - 4));
      lua_settable(L, -3);
      lua_pushstring(L, "format");
      lua_pushlstring(L, r->p, 3);
      lua_settable(L, -3);
      lua_settable(L, -3);
    }
    r->p += n + 2;
    break;
  case '|':
    n = read_num(r);
    for (long long j = 0; j < n * 2; j++) parse_reply(L, r, 0);
    parse_reply(L, r, push);
    break;
  default:
    luaL_error(L, "unexpected reply type from the server");
  }
}

/* ---- redis.* ------------------------------------------------------------------------------- */

static void format_number(lua_Number num, char *buf, size_t size, size_t *len) {
  *len = (size_t)snprintf(buf, size, "%.17g", (double)num);
}

/* Packs the Lua arguments into argb. Returns 0, or pushes the error table and returns 1. */
static int pack_args(lua_State *L, int *argc) {
  int n = lua_gettop(L);
  *argc = n;
  if (n == 0) {
    push_error_str(L, "Please specify at least one argument for this redis lib call");
    return 1;
  }
  argb.len = 0;
  for (int j = 1; j <= n; j++) {
    const char *s;
    size_t len;
    char dbuf[64];
    if (lua_type(L, j) == LUA_TNUMBER) {
      format_number(lua_tonumber(L, j), dbuf, sizeof(dbuf), &len);
      s = dbuf;
    } else {
      s = lua_tolstring(L, j, &len);
      if (s == NULL) {
        lua_pop(L, n);
        push_error_str(L, "Lua redis lib command arguments must be strings or integers");
        return 1;
      }
    }
    int arg = find_run_arg(s, len);
    if (arg >= 0) {
      /* The host's argument `arg` (high bit set: no bytes follow). */
      uint32_t ref = 0x80000000u | (uint32_t)arg;
      buf_put(&argb, &ref, 4);
      continue;
    }
    uint32_t l32 = (uint32_t)len;
    buf_put(&argb, &l32, 4);
    buf_put(&argb, s, len);
  }
  lua_pop(L, n);
  return 0;
}

static int redis_generic_call(lua_State *L, int raise) {
  if (running == NULL && !loading) return raise_error(L, "redis.call/pcall can only be called inside a script invocation");
  int argc;
  if (pack_args(L, &argc)) return raise ? lua_error(L) : 1;
  if (in_call) {
    push_error_str(L, "luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?");
    return 1;
  }
  in_call = 1;
  int len = host_call(raise ? 0 : 1, argc, script_resp);
  in_call = 0;
  last_reply_len = len;
  Reader r = {reply.p, reply.p + len};
  int is_error = len > 0 && reply.p[0] == '-';
  parse_reply(L, &r, 1);
  if (raise && is_error) return lua_error(L);
  return 1;
}

static int redis_call(lua_State *L) { return redis_generic_call(L, 1); }
static int redis_pcall(lua_State *L) { return redis_generic_call(L, 0); }

/* The global pcall: errors raised as {err=...} tables come back as their message. */
static int redis_lua_pcall(lua_State *L) {
  int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) lua_replace(L, -2);
      else lua_pop(L, 1);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

static int redis_sha1hex(lua_State *L) {
  if (lua_gettop(L) != 1) return raise_error(L, "wrong number of arguments");
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  char digest[41];
  sha1hex(digest, s ? s : "", s ? len : 0);
  lua_pushstring(L, digest);
  return 1;
}

static int redis_error_reply(lua_State *L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_str(L, "wrong number or type of arguments");
    return 1;
  }
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (len > 0 && s[0] == '-') {
    push_error(L, s, len);
  } else {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '-');
    luaL_addlstring(&b, s, len);
    luaL_pushresult(&b);
    size_t full_len;
    const char *full = lua_tolstring(L, -1, &full_len);
    push_error(L, full, full_len);
  }
  return 1;
}

static int redis_status_reply(lua_State *L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_str(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, "ok");
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  return 1;
}

static int redis_set_repl(lua_State *L) {
  if (running == NULL) return raise_error(L, "redis.set_repl can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return raise_error(L, "redis.set_repl() requires two arguments.");
  int flags = (int)lua_tonumber(L, -1);
  if ((flags & ~3) != 0) return raise_error(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  host_set_repl(flags);
  return 0;
}

static int redis_acl_check_cmd(lua_State *L) {
  if (running == NULL) return raise_error(L, "redis.acl_check_cmd can only be called inside a script invocation");
  int argc;
  if (pack_args(L, &argc)) return lua_error(L);
  int r = host_call(2, argc, script_resp);
  if (r < 0) return raise_error(L, "Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, r);
  return 1;
}

static int redis_log(lua_State *L) {
  int argc = lua_gettop(L);
  if (argc < 2) return raise_error(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, -argc)) return raise_error(L, "First argument must be a number (log level).");
  int level = (int)lua_tonumber(L, -argc);
  if (level < 0 || level > 3) return raise_error(L, "Invalid debug level.");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  int first = 1;
  for (int j = 2; j <= argc; j++) {
    size_t len;
    const char *s = lua_tolstring(L, j, &len);
    if (s) {
      if (!first) luaL_addchar(&b, ' ');
      /* The buffer sits on the stack above the arguments: add by copy. */
      luaL_addlstring(&b, s, len);
      first = 0;
    }
  }
  luaL_pushresult(&b);
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  host_log(level, msg, (int)len);
  return 0;
}

static int redis_setresp(lua_State *L) {
  if (running == NULL) return raise_error(L, "redis.setresp can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return raise_error(L, "redis.setresp() requires one argument.");
  int resp = (int)lua_tonumber(L, -1);
  if (resp != 2 && resp != 3) return raise_error(L, "RESP version must be 2 or 3.");
  script_resp = resp;
  return 0;
}

static int redis_breakpoint(lua_State *L) {
  lua_pushboolean(L, 0);
  return 1;
}

static int redis_debug(lua_State *L) {
  (void)L;
  return 0;
}

static int redis_replicate_commands(lua_State *L) {
  lua_pushboolean(L, 1);
  return 1;
}

static int math_random(lua_State *L) {
  if (running == NULL) return luaL_error(L, "math.random can only be called inside a script invocation");
  lua_Number r = (lua_Number)(lrand48_next() % 2147483647) / (lua_Number)2147483647;
  switch (lua_gettop(L)) {
  case 0:
    lua_pushnumber(L, r);
    break;
  case 1: {
    int u = luaL_checkint(L, 1);
    luaL_argcheck(L, 1 <= u, 1, "interval is empty");
    lua_pushnumber(L, floor(r * u) + 1);
    break;
  }
  case 2: {
    int l = luaL_checkint(L, 1);
    int u = luaL_checkint(L, 2);
    luaL_argcheck(L, l <= u, 2, "interval is empty");
    lua_pushnumber(L, floor(r * (u - l + 1)) + l);
    break;
  }
  default:
    return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

static int math_randomseed(lua_State *L) {
  if (running == NULL) return luaL_error(L, "math.randomseed can only be called inside a script invocation");
  int32_t seed = (int32_t)luaL_checkint(L, 1);
  rand48 = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
  return 0;
}

/* ---- pcall and xpcall that let a slow script pause -------------------------------------------
 * Lua 5.1 cannot yield across a C call such as pcall, so a script looping inside pcall could
 * never be paused for BUSY replies. These versions run the protected function in a coroutine of
 * their own: when the count hook pauses that coroutine, the wrapper pauses its caller in turn,
 * up to the script's coroutine, which returns to the server. */

#define REG_PCALL_THREADS "__PCALL_THREADS__"

/* Set when the count hook paused a pcall coroutine (rather than the script asking to yield). */
static int hook_yielded = 0;

static int is_pcall_thread(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, REG_PCALL_THREADS);
  lua_pushthread(L);
  lua_rawget(L, -2);
  int yes = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return yes;
}

static int pcall_thread(lua_State *L) {
  lua_State *co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, REG_PCALL_THREADS);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

static int pcall_hook_yielded(lua_State *L) {
  lua_pushboolean(L, hook_yielded);
  return 1;
}

static int pcall_can_yield(lua_State *L) {
  lua_pushboolean(L, L->nCcalls <= L->baseCcalls);
  return 1;
}

static int is_lua_function(lua_State *L) {
  lua_pushboolean(L, lua_isfunction(L, 1) && !lua_iscfunction(L, 1));
  return 1;
}

static const char pcall_source[] =
    "local pcall_thread, hook_yielded, can_yield, c_pcall, c_xpcall, is_lua = ...\n"
    "local resume, status, yield = coroutine.resume, coroutine.status, coroutine.yield\n"
    "local select, unpack, type = select, unpack, type\n"
    "local function pack(...) return select('#', ...), {...} end\n"
    "local function drive(co, ...)\n"
    "  local n, r = pack(resume(co, ...))\n"
    "  while status(co) == 'suspended' do\n"
    "    if not hook_yielded() then\n"
    "      return 2, {false, 'attempt to yield across metamethod/C-call boundary'}\n"
    "    end\n"
    "    if can_yield() then yield() end\n"
    "    n, r = pack(resume(co))\n"
    "  end\n"
    "  return n, r\n"
    "end\n"
    "local function pcall(f, ...)\n"
    "  if not is_lua(f) then return c_pcall(f, ...) end\n"
    "  local n, r = drive(pcall_thread(f), ...)\n"
    "  if not r[1] then\n"
    "    local e = r[2]\n"
    "    if type(e) == 'table' then\n"
    "      local m = e.err\n"
    "      if type(m) == 'string' or type(m) == 'number' then e = m end\n"
    "    end\n"
    "    return false, e\n"
    "  end\n"
    "  return unpack(r, 1, n)\n"
    "end\n"
    "local function xpcall(f, handler)\n"
    "  if not is_lua(f) then return c_xpcall(f, handler) end\n"
    "  local n, r = drive(pcall_thread(f))\n"
    "  if not r[1] then return false, handler(r[2]) end\n"
    "  return unpack(r, 1, n)\n"
    "end\n"
    "return pcall, xpcall\n";

static void install_pcall(lua_State *L) {
  lua_newtable(L);
  lua_newtable(L);
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_PCALL_THREADS);
  luaL_loadbuffer(L, pcall_source, sizeof(pcall_source) - 1, "=pcall");
  lua_pushcfunction(L, pcall_thread);
  lua_pushcfunction(L, pcall_hook_yielded);
  lua_pushcfunction(L, pcall_can_yield);
  lua_pushcfunction(L, redis_lua_pcall);
  lua_getglobal(L, "xpcall");
  lua_pushcfunction(L, is_lua_function);
  lua_call(L, 6, 2);
  lua_setglobal(L, "xpcall");
  lua_setglobal(L, "pcall");
}

/* ---- FUNCTION LOAD: redis.register_function ----------------------------------------------- */

static const char *const function_flags[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                             "allow-cross-slot-keys", NULL};

static int read_flags(lua_State *L, int *flags) {
  *flags = 0;
  for (int j = 1;; j++) {
    lua_rawgeti(L, -1, j);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      return 1;
    }
    const char *f = lua_tostring(L, -1);
    int found = 0;
    for (int k = 0; function_flags[k]; k++) {
      if (!strcasecmp(function_flags[k], f)) {
        *flags |= 1 << k;
        found = 1;
      }
    }
    lua_pop(L, 1);
    if (!found) return 1;
  }
}

static int register_function(lua_State *L) {
  if (!loading) return raise_error(L, "redis.register_function can only be called on FUNCTION LOAD command");
  int argc = lua_gettop(L);
  const char *name = NULL, *desc = NULL;
  size_t name_len = 0, desc_len = 0;
  int flags = 0;
  int ref = LUA_NOREF;
  if (argc < 1 || argc > 2) return raise_error(L, "wrong number of arguments to redis.register_function");
  if (argc == 2) {
    if (!lua_isstring(L, 1)) return raise_error(L, "first argument to redis.register_function must be a string");
    if (!lua_isfunction(L, 2)) return raise_error(L, "second argument to redis.register_function must be a function");
    name = lua_tolstring(L, 1, &name_len);
    lua_pushvalue(L, 2);
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    const char *err = NULL;
    if (!lua_istable(L, 1)) {
      return raise_error(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    }
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      if (!lua_isstring(L, -2)) {
        err = "named argument key given to redis.register_function is not a string";
        break;
      }
      const char *key = lua_tostring(L, -2);
      if (!strcasecmp(key, "function_name")) {
        if (!lua_isstring(L, -1)) {
          err = "function_name argument given to redis.register_function must be a string";
          break;
        }
        name = lua_tolstring(L, -1, &name_len);
      } else if (!strcasecmp(key, "description")) {
        if (!lua_isstring(L, -1)) {
          err = "description argument given to redis.register_function must be a string";
          break;
        }
        desc = lua_tolstring(L, -1, &desc_len);
      } else if (!strcasecmp(key, "callback")) {
        if (!lua_isfunction(L, -1)) {
          err = "callback argument given to redis.register_function must be a function";
          break;
        }
        if (ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, ref);
        lua_pushvalue(L, -1);
        ref = luaL_ref(L, LUA_REGISTRYINDEX);
      } else if (!strcasecmp(key, "flags")) {
        if (!lua_istable(L, -1)) {
          err = "flags argument to redis.register_function must be a table representing function flags";
          break;
        }
        if (read_flags(L, &flags)) {
          err = "unknown flag given";
          break;
        }
      } else {
        err = "unknown argument given to redis.register_function";
        break;
      }
      lua_pop(L, 1);
    }
    if (!err && !name) err = "redis.register_function must get a function name argument";
    if (!err && ref == LUA_NOREF) err = "redis.register_function must get a callback argument";
    if (err) {
      if (ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, ref);
      return raise_error(L, err);
    }
  }
  int err_len = host_register(name, (int)name_len, desc, desc ? (int)desc_len : -1, flags, ref);
  if (err_len > 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    push_error(L, reply.p, (size_t)err_len);
    return lua_error(L);
  }
  return 0;
}

/* ---- the sandbox ----------------------------------------------------------------------------- */

/* Redis 7.0.15 with its 2025 security fixes (Debian's build): getfenv, setfenv and newproxy are
 * gone, as they let a script reach another script's environment or make shared userdata. Redis
 * 7.4 adds `os`, which holds os.clock() alone. */
static const char *const allowed_globals[] = {
    "string", "cjson", "bit", "cmsgpack", "math", "table", "struct", "os", "redis",
    "xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal",
    "collectgarbage", "getmetatable", "rawset", "pcall", "coroutine", "type", "_G", "select",
    "unpack", "gcinfo", "pairs", "rawget", "loadstring", "ipairs", "_VERSION", "load",
    "error", NULL};

/* __newindex of the globals while libraries load: only names on the allow list get in (so
 * print, dofile and loadfile never become globals). */
static int globals_allow_list(lua_State *L) {
  if (lua_gettop(L) != 3) return luaL_error(L, "Wrong number of arguments to luaNewIndexAllowList");
  const char *name = lua_tostring(L, 2);
  if (name) {
    for (int i = 0; allowed_globals[i]; i++) {
      if (!strcmp(allowed_globals[i], name)) {
        lua_rawset(L, 1);
        return 0;
      }
    }
  }
  return 0;
}

static int nonexistent_global(lua_State *L) {
  if (lua_gettop(L) != 2) return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
  if (!lua_isstring(L, -1) && !lua_isnumber(L, -1)) {
    return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
  }
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, -1));
}

static void set_error_metatable(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, nonexistent_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

static void protect_recursively(lua_State *L) {
  if (lua_isreadonlytable(L, -1)) return;
  lua_enablereadonlytable(L, -1, 1);
  lua_checkstack(L, 2);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_istable(L, -1)) protect_recursively(L);
    lua_pop(L, 1);
  }
  if (lua_getmetatable(L, -1)) {
    protect_recursively(L);
    lua_pop(L, 1);
  }
}

static void set_field_fn(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

static void set_field_num(lua_State *L, const char *name, lua_Number n) {
  lua_pushnumber(L, n);
  lua_setfield(L, -2, name);
}

/* The version redis.REDIS_VERSION and redis.REDIS_VERSION_NUM give: the one the server reports
 * (rd_set_version). */
static char version_str[32] = "7.4.1";
static lua_Number version_num = 0x00070401;

static void set_version_fields(lua_State *L) {
  set_field_num(L, "REDIS_VERSION_NUM", version_num);
  lua_pushstring(L, version_str);
  lua_setfield(L, -2, "REDIS_VERSION");
}

static void register_log_and_version(lua_State *L) {
  set_field_fn(L, "log", redis_log);
  set_field_num(L, "LOG_DEBUG", 0);
  set_field_num(L, "LOG_VERBOSE", 1);
  set_field_num(L, "LOG_NOTICE", 2);
  set_field_num(L, "LOG_WARNING", 3);
  set_version_fields(L);
}

/* Rewrites the version fields of the read-only `redis` table on the top of the stack, and pops it. */
static void update_version_fields(lua_State *L) {
  if (lua_istable(L, -1)) {
    lua_enablereadonlytable(L, -1, 0);
    set_version_fields(L);
    lua_enablereadonlytable(L, -1, 1);
  }
  lua_pop(L, 1);
}

/* os.clock() (Redis 7.4): the CPU time the server has used, in seconds, as C's clock() gives
 * it; the rest of Lua's os library stays out of the sandbox. */
static int os_clock(lua_State *L) {
  lua_pushnumber(L, (lua_Number)host_clock());
  return 1;
}

static void load_lib(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

int luaopen_cjson(lua_State *L);
int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);
int luaopen_bit(lua_State *L);

/* Bytes each engine's state allocated (new blocks and growth) since the last periodic GC step
 * (see end_run). */
static size_t allocated[2];

/* lauxlib's allocator, counting what it allocates in `*ud`. */
static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (nsize > osize) *(size_t *)ud += nsize - osize;
  return realloc(ptr, nsize);
}

/* As lauxlib's: an error outside any protected call ends the engine (proc_exit). */
static int panic(lua_State *L) {
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", lua_tostring(L, -1));
  return 0;
}

static lua_State *new_state(int engine) {
  lua_State *L = lua_newstate(counting_alloc, &allocated[engine]);
  if (L) lua_atpanic(L, panic);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_newtable(L);
  lua_pushcfunction(L, globals_allow_list);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);

  load_lib(L, "", luaopen_base);
  load_lib(L, LUA_TABLIBNAME, luaopen_table);
  load_lib(L, LUA_STRLIBNAME, luaopen_string);
  load_lib(L, LUA_MATHLIBNAME, luaopen_math);
  load_lib(L, "cjson", luaopen_cjson);
  load_lib(L, "struct", luaopen_struct);
  load_lib(L, "cmsgpack", luaopen_cmsgpack);
  load_lib(L, "bit", luaopen_bit);
  lua_settop(L, 0);
  lua_newtable(L);
  set_field_fn(L, "clock", os_clock);
  lua_setglobal(L, "os");

  install_pcall(L);

  lua_newtable(L);
  set_field_fn(L, "call", redis_call);
  set_field_fn(L, "pcall", redis_pcall);
  register_log_and_version(L);
  set_field_fn(L, "setresp", redis_setresp);
  set_field_fn(L, "sha1hex", redis_sha1hex);
  set_field_fn(L, "error_reply", redis_error_reply);
  set_field_fn(L, "status_reply", redis_status_reply);
  set_field_fn(L, "set_repl", redis_set_repl);
  set_field_num(L, "REPL_NONE", 0);
  set_field_num(L, "REPL_AOF", 1);
  set_field_num(L, "REPL_SLAVE", 2);
  set_field_num(L, "REPL_REPLICA", 2);
  set_field_num(L, "REPL_ALL", 3);
  set_field_fn(L, "acl_check_cmd", redis_acl_check_cmd);
  if (engine == ENGINE_EVAL) {
    set_field_fn(L, "breakpoint", redis_breakpoint);
    set_field_fn(L, "debug", redis_debug);
    set_field_fn(L, "replicate_commands", redis_replicate_commands);
  }
  lua_setglobal(L, "redis");

  lua_getglobal(L, "math");
  set_field_fn(L, "random", math_random);
  set_field_fn(L, "randomseed", math_randomseed);
  lua_pop(L, 1);

  if (engine == ENGINE_FUNCTIONS) {
    /* What a library sees while it loads: only a small `redis` table. */
    lua_newtable(L);
    lua_newtable(L);
    set_field_fn(L, "register_function", register_function);
    register_log_and_version(L);
    set_error_metatable(L);
    lua_setfield(L, -2, "redis");
    set_error_metatable(L);
    protect_recursively(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_LIBRARY_API);
  }

  lua_pushvalue(L, LUA_GLOBALSINDEX);
  set_error_metatable(L);
  protect_recursively(L);
  lua_pop(L, 1);

  /* The metatable strings share (getmetatable('')) is read-only too: a script must not change
   * what every other script's strings do. */
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    protect_recursively(L);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  if (engine == ENGINE_FUNCTIONS) {
    /* Libraries get an empty global table that reads through to the real one. */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_GLOBALS_API);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_enablereadonlytable(L, -1, 1);
    lua_setmetatable(L, -2);
    lua_enablereadonlytable(L, -1, 1);
    lua_replace(L, LUA_GLOBALSINDEX);
  }
  return L;
}

EXPORT(rd_init) int rd_init(int engine) {
  if (states[engine]) lua_close(states[engine]);
  spare[engine] = NULL;
  spare_ref[engine] = LUA_NOREF;
  if (engine == ENGINE_EVAL) kept[0] = kept[1] = NULL;
  lua_State *L = new_state(engine);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_SCRIPT_NAMES);
  states[engine] = L;
  return 0;
}

/* Sets the version scripts see (the name area holds it, NUL-terminated; `num` is Redis's
 * REDIS_VERSION_NUM, 0x00MMmmpp), in the engines that exist and in those created later. */
EXPORT(rd_set_version) void rd_set_version(int num) {
  strncpy(version_str, rd_name(), sizeof(version_str) - 1);
  version_str[sizeof(version_str) - 1] = 0;
  version_num = num;
  for (int engine = 0; engine < 2; engine++) {
    lua_State *L = states[engine];
    if (!L) continue;
    if (engine == ENGINE_FUNCTIONS) {
      lua_getfield(L, LUA_REGISTRYINDEX, REG_GLOBALS_API);
      lua_getfield(L, -1, "redis");
      update_version_fields(L);
      lua_pop(L, 1);
      lua_getfield(L, LUA_REGISTRYINDEX, REG_LIBRARY_API);
      lua_getfield(L, -1, "redis");
      update_version_fields(L);
      lua_pop(L, 1);
    } else {
      lua_getglobal(L, "redis");
      update_version_fields(L);
    }
  }
}

EXPORT(rd_memory) double rd_memory(int engine) {
  lua_State *L = states[engine];
  if (!L) return 0;
  return (double)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + lua_gc(L, LUA_GCCOUNTB, 0);
}

/* ---- Lua -> RESP (the script's result) ------------------------------------------------------ */

/* Appends `s` with CR and LF turned into spaces (error and status lines). */
static void put_line_text(const char *s, size_t len) {
  buf_reserve(&io, len);
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    io.p[io.len++] = (c == '\r' || c == '\n') ? ' ' : c;
  }
}

static void put_null(void) {
  if (caller_resp == 3) buf_put(&io, "_\r\n", 3);
  else buf_put(&io, "$-1\r\n", 5);
}

static void put_bulk(const char *s, size_t len) {
  buf_line(&io, '$', (long long)len);
  buf_put(&io, s, len);
  buf_put(&io, "\r\n", 2);
}

/* Encodes the value on top of the stack into io and pops it, for the caller's protocol. Errors are written as RESP errors;
 * a '!' instead of '-' marks an error already counted in the error stats. */
static void encode_value(lua_State *L) {
  int t = lua_type(L, -1);
  if (!lua_checkstack(L, 4)) {
    static const char msg[] = "-ERR reached lua stack limit\r\n";
    buf_put(&io, msg, sizeof(msg) - 1);
    lua_pop(L, 1);
    return;
  }
  switch (t) {
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    put_bulk(s, len);
    break;
  }
  case LUA_TBOOLEAN:
    if (script_resp == 2) {
      if (lua_toboolean(L, -1)) buf_put(&io, ":1\r\n", 4);
      else put_null();
    } else if (caller_resp == 3) {
      buf_put(&io, lua_toboolean(L, -1) ? "#t\r\n" : "#f\r\n", 4);
    } else {
      buf_put(&io, lua_toboolean(L, -1) ? ":1\r\n" : ":0\r\n", 4);
    }
    break;
  case LUA_TNUMBER: {
    double d = lua_tonumber(L, -1);
    long long v;
    /* C leaves out-of-range conversions undefined; x86 (where Redis runs) gives INT64_MIN. */
    if (d != d || d >= 9223372036854775808.0 || d < -9223372036854775808.0) v = INT64_MIN;
    else v = (long long)d;
    buf_line(&io, ':', v);
    break;
  }
  case LUA_TTABLE: {
    lua_pushstring(L, "err");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      lua_getfield(L, -2, "ignore_error_stats_update");
      int quiet = lua_toboolean(L, -1);
      lua_pop(L, 1);
      /* '!' (an error already counted) is only meaningful for the whole reply. */
      buf_put(&io, quiet && io.len == 0 ? "!" : "-", 1);
      put_line_text(s, len);
      buf_put(&io, "\r\n", 2);
      lua_pop(L, 2);
      return;
    }
    lua_pop(L, 1);
    lua_pushstring(L, "ok");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      buf_put(&io, "+", 1);
      put_line_text(s, strlen(s));
      buf_put(&io, "\r\n", 2);
      lua_pop(L, 2);
      return;
    }
    lua_pop(L, 1);
    lua_pushstring(L, "double");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      char tmp[64];
      double d = lua_tonumber(L, -1);
      int n = host_format_double(d, tmp);
      if (caller_resp == 3) {
        buf_put(&io, ",", 1);
        buf_put(&io, tmp, (size_t)n);
        buf_put(&io, "\r\n", 2);
      } else {
        put_bulk(tmp, (size_t)n);
      }
      lua_pop(L, 2);
      return;
    }
    lua_pop(L, 1);
    lua_pushstring(L, "big_number");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      if (caller_resp == 3) buf_put(&io, "(", 1);
      else buf_line(&io, '$', (long long)len);
      put_line_text(s, len);
      buf_put(&io, "\r\n", 2);
      lua_pop(L, 2);
      return;
    }
    lua_pop(L, 1);
    lua_pushstring(L, "verbatim_string");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushstring(L, "format");
      lua_rawget(L, -2);
      if (lua_type(L, -1) == LUA_TSTRING) {
        lua_pushstring(L, "string");
        lua_rawget(L, -3);
        if (lua_type(L, -1) == LUA_TSTRING) {
          size_t flen, slen;
          const char *f = lua_tolstring(L, -2, &flen);
          const char *s = lua_tolstring(L, -1, &slen);
          char fmt[3] = {'t', 'x', 't'};
          memcpy(fmt, f, flen < 3 ? flen : 3);
          if (caller_resp == 3) {
            buf_line(&io, '=', (long long)slen + 4);
            buf_put(&io, fmt, 3);
            buf_put(&io, ":", 1);
            buf_put(&io, s, slen);
            buf_put(&io, "\r\n", 2);
          } else {
            put_bulk(s, slen);
          }
          lua_pop(L, 4);
          return;
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushstring(L, "map");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TTABLE) {
      long long n = 0;
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
      }
      if (caller_resp == 3) buf_line(&io, '%', n);
      else buf_line(&io, '*', n * 2);
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        encode_value(L); /* key */
        encode_value(L); /* value */
      }
      lua_pop(L, 2);
      return;
    }
    lua_pop(L, 1);
    lua_pushstring(L, "set");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TTABLE) {
      long long n = 0;
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
      }
      buf_line(&io, caller_resp == 3 ? '~' : '*', n);
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        encode_value(L);
      }
      lua_pop(L, 2);
      return;
    }
    lua_pop(L, 1);
    long long n = 0;
    for (;;) {
      lua_rawgeti(L, -1, (int)(n + 1));
      int nil = lua_isnil(L, -1);
      lua_pop(L, 1);
      if (nil) break;
      n++;
    }
    buf_line(&io, '*', n);
    for (long long j = 1; j <= n; j++) {
      lua_rawgeti(L, -1, (int)j);
      encode_value(L);
    }
    break;
  }
  default:
    put_null();
  }
  lua_pop(L, 1);
}

/* ---- running scripts ---------------------------------------------------------------------- */

#define HOOK_EVERY 100000

static void count_hook(lua_State *L, lua_Debug *ar);

static void kill_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  raise_error(L, "Script killed by user with SCRIPT KILL...");
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  int what = host_tick();
  if (what == 1) {
    /* Raised on every line from now on, so pcall cannot swallow the kill. */
    lua_sethook(L, kill_hook, LUA_MASKLINE, 0);
    if (running && running != L) lua_sethook(running, kill_hook, LUA_MASKLINE, 0);
    raise_error(L, "Script killed by user with SCRIPT KILL...");
  } else if (what == 3) {
    lua_sethook(L, count_hook, LUA_MASKLINE, 0);
    raise_error(L, "FUNCTION LOAD timeout");
  } else if (what == 2 && L->nCcalls <= L->baseCcalls) {
    if (L == running) {
      lua_yield(L, 0);
    } else if (is_pcall_thread(L)) {
      hook_yielded = 1;
      lua_yield(L, 0);
    }
  }
}

/* Builds the error reply from the dead coroutine's error: its message, then where it was
 * raised (" script: <name>, on @user_script:<line>."), as Redis's error handler does. */
static void encode_error(lua_State *co, const char *name, int name_len) {
  lua_State *L = co;
  lua_Debug ar;
  int have_where = 0;
  const char *source = NULL;
  int line = 0;
  if (lua_getstack(L, 0, &ar)) {
    lua_getinfo(L, "Sl", &ar);
    if (!strcmp(ar.what, "C") && lua_getstack(L, 1, &ar)) lua_getinfo(L, "Sl", &ar);
    source = ar.source;
    line = ar.currentline;
    have_where = 1;
  }
  const char *msg;
  size_t msg_len;
  int quiet = 0;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "err");
    msg = lua_tolstring(L, -1, &msg_len);
    lua_getfield(L, -2, "ignore_error_stats_update");
    quiet = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!msg) {
      msg = "";
      msg_len = 0;
    }
  } else {
    lua_pushstring(L, "ERR ");
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 1);
    lua_concat(L, 2);
    msg = lua_tolstring(L, -1, &msg_len);
  }
  io.len = 0;
  buf_put(&io, quiet ? "!" : "-", 1);
  put_line_text(msg, msg_len);
  if (have_where && source) {
    char tmp[64];
    buf_put(&io, " script: ", 9);
    buf_put(&io, name, (size_t)name_len);
    buf_put(&io, ", on ", 5);
    buf_put(&io, source, strlen(source));
    int n = snprintf(tmp, sizeof(tmp), ":%d.", line);
    buf_put(&io, tmp, (size_t)n);
  }
  buf_put(&io, "\r\n", 2);
}

static char run_name[256];
static int run_name_len = 0;
/* The running EVAL script's function reference (its SHA is in REG_SCRIPT_NAMES). */
static int run_name_ref = LUA_NOREF;
static int gc_count = 0;

static void end_run(int ok) {
  int engine = running_engine;
  lua_State *L = states[engine];
  if (ok && spare[running_engine] == NULL && lua_gettop(running) == 0) {
    spare[running_engine] = running;
    spare_ref[running_engine] = running_ref;
  } else if (running_ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, running_ref);
  }
  running_ref = LUA_NOREF;
  running = NULL;
  running_engine = -1;
  /* As Redis, a GC step every 50 runs (LUA_GC_CYCLE_PERIOD), so that Lua's own steps do not
   * pile up into a long one; but sized by what the runs allocated, up to Redis's 50 KB, instead
   * of 50 KB always. On a small heap, 50 KB of steps is a whole cycle (all live objects marked
   * again): 7% of the EVALSHA of a one-GET script, whose runs allocate next to nothing (Lua
   * interns strings and takes back one met again). Lua's own steps still follow allocation, so
   * the heap stays as bounded as before. */
  if (++gc_count == 50) {
    size_t kb = (allocated[engine] >> 10) + 1;
    if (allocated[engine] != 0) lua_gc(L, LUA_GCSTEP, kb < 50 ? (int)kb : 50);
    allocated[engine] = 0;
    gc_count = 0;
  }
}

/* True when the string on top of the stack is, byte for byte, the bulk string reply
 * (`$<len>\r\n<bytes>\r\n`) the host last wrote into `reply`. */
static int same_as_reply(lua_State *L) {
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  size_t digits = 1;
  for (size_t v = len; v >= 10; v /= 10) digits++;
  if (last_reply_len <= 0 || (size_t)last_reply_len != digits + len + 5) return 0;
  const char *p = reply.p;
  if (p[0] != '$' || p[1 + digits] != '\r') return 0;
  size_t n = 0;
  for (size_t i = 1; i <= digits; i++) {
    char c = p[i];
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (size_t)(c - '0');
  }
  return n == len && memcmp(p + digits + 3, s, len) == 0;
}

/* After a resume: 0 done (result in io), 1 error (error reply in io), 2 yielded. */
static int after_resume(int status) {
  lua_State *co = running;
  result_is_reply = 0;
  if (status == LUA_YIELD) return 2;
  run_arg_n = 0;
  if (status == 0) {
    io.len = 0;
    if (lua_gettop(co) == 0) put_null();
    else {
      lua_settop(co, 1);
      if (lua_type(co, 1) == LUA_TSTRING) result_is_reply = same_as_reply(co);
      encode_value(co);
    }
    end_run(1);
    return 0;
  }
  if (running_engine == ENGINE_EVAL) {
    /* EVAL errors name the script by its SHA, kept beside its compiled function. */
    lua_getfield(co, LUA_REGISTRYINDEX, REG_SCRIPT_NAMES);
    lua_rawgeti(co, -1, run_name_ref);
    size_t len = 0;
    const char *s = lua_tolstring(co, -1, &len);
    if (s && len < sizeof(run_name)) {
      memcpy(run_name, s, len);
      run_name_len = (int)len;
    }
    lua_pop(co, 2);
  }
  encode_error(co, run_name, run_name_len);
  end_run(0);
  return 1;
}

static void push_array(lua_State *L, const char **p, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    uint32_t len;
    memcpy(&len, *p, 4);
    *p += 4;
    lua_pushlstring(L, *p, len);
    *p += len;
    lua_rawseti(L, -2, i + 1);
  }
}

static lua_State *new_run(int engine, int cresp, int hook) {
  lua_State *L = states[engine];
  running_engine = engine;
  lua_State *co;
  if (spare[engine] != NULL) {
    co = spare[engine];
    running_ref = spare_ref[engine];
    spare[engine] = NULL;
  } else {
    co = lua_newthread(L);
    running_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  running = co;
  script_resp = 2;
  caller_resp = cresp;
  if (hook) lua_sethook(co, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  else lua_sethook(co, NULL, 0, 0);
  return co;
}

/* Compiles an EVAL script (body in io; `skip` bytes of shebang left out, keeping its line feed)
 * named `sha` (40 bytes). Returns a reference to the compiled function, or -1 with the error
 * message in io. */
EXPORT(rd_eval_compile) int rd_eval_compile(const char *sha, int len, int skip) {
  lua_State *L = states[ENGINE_EVAL];
  if (luaL_loadbuffer(L, io.p + skip, (size_t)(len - skip), "@user_script")) {
    size_t elen;
    const char *e = lua_tolstring(L, -1, &elen);
    Buf out = {0};
    buf_put(&out, "Error compiling script (new function): ", 39);
    buf_put(&out, e, elen);
    lua_pop(L, 1);
    io.len = 0;
    buf_put(&io, out.p, out.len);
    free(out.p);
    return -1;
  }
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_getfield(L, LUA_REGISTRYINDEX, REG_SCRIPT_NAMES);
  lua_pushlstring(L, sha, 40);
  lua_rawseti(L, -2, ref);
  lua_pop(L, 1);
  return ref;
}

/* Sets global KEYS (which 0) or ARGV (1) to an array of the `n` strings at `*p` ([u32 len]
 * [bytes] each), advancing `*p`. */
static void set_array_global(lua_State *L, int which, const char **p, int n) {
  Table *t = kept[which];
  if (t != NULL && t->metatable == NULL && !t->readonly && n <= t->sizearray &&
      t->lsizenode == 0 && ttisnil(gval(gnode(t, 0)))) {
    TValue *a = t->array;
    for (int i = 0; i < n; i++) {
      uint32_t len;
      memcpy(&len, *p, 4);
      *p += 4;
      setsvalue(L, &a[i], luaS_newlstr(L, *p, len));
      luaC_barriert(L, t, &a[i]);
      *p += len;
    }
    for (int i = n; i < t->sizearray; i++) setnilvalue(&a[i]);
    luaC_checkGC(L);
    return;
  }
  push_array(L, p, n);
  kept[which] = n <= KEPT_MAX ? hvalue(L->top - 1) : NULL;
  lua_enablereadonlytable(L, LUA_GLOBALSINDEX, 0);
  lua_setglobal(L, which == 0 ? "KEYS" : "ARGV");
  lua_enablereadonlytable(L, LUA_GLOBALSINDEX, 1);
}

/* Starts the compiled EVAL script `ref`: KEYS and ARGV packed in io. */
EXPORT(rd_eval_start) int rd_eval_start(int ref, int nkeys, int nargs, int cresp, int hook) {
  lua_State *L = states[ENGINE_EVAL];
  const char *p = io.p;
  record_run_args(p, nkeys + nargs);
  set_array_global(L, 0, &p, nkeys);
  set_array_global(L, 1, &p, nargs);
  lua_State *co = new_run(ENGINE_EVAL, cresp, hook);
  run_name_ref = ref;
  lua_rawgeti(co, LUA_REGISTRYINDEX, ref);
  return after_resume(lua_resume(co, 0));
}

/* Calls library function `ref` (FCALL): the keys and args tables are its two arguments. */
EXPORT(rd_fcall_start) int rd_fcall_start(int ref, const char *name, int name_len, int nkeys, int nargs,
                                          int cresp, int hook) {
  lua_State *co = new_run(ENGINE_FUNCTIONS, cresp, hook);
  if (name_len > (int)sizeof(run_name)) name_len = sizeof(run_name);
  memcpy(run_name, name, (size_t)name_len);
  run_name_len = name_len;
  const char *p = io.p;
  record_run_args(p, nkeys + nargs);
  lua_rawgeti(co, LUA_REGISTRYINDEX, ref);
  push_array(co, &p, nkeys);
  push_array(co, &p, nargs);
  return after_resume(lua_resume(co, 2));
}

EXPORT(rd_resume) int rd_resume(void) {
  hook_yielded = 0;
  return after_resume(lua_resume(running, 0));
}

/* Runs a library's code (in io) so it registers its functions. 0, or 1 with the error in io. */
EXPORT(rd_fn_load) int rd_fn_load(int len, int hook) {
  lua_State *L = states[ENGINE_FUNCTIONS];
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_enablereadonlytable(L, -1, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, REG_LIBRARY_API);
  lua_setfield(L, -2, "__index");
  lua_enablereadonlytable(L, -1, 1);
  lua_pop(L, 1);
  int rc = 0;
  if (luaL_loadbuffer(L, io.p, (size_t)len, "@user_function")) {
    size_t elen;
    const char *e = lua_tolstring(L, -1, &elen);
    Buf out = {0};
    buf_put(&out, "Error compiling function: ", 26);
    buf_put(&out, e, elen);
    io.len = 0;
    buf_put(&io, out.p, out.len);
    free(out.p);
    lua_pop(L, 1);
    rc = 1;
  } else {
    loading = 1;
    if (hook) lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    if (lua_pcall(L, 0, 0, 0)) {
      const char *msg = NULL;
      size_t mlen = 0;
      int plain = !lua_istable(L, -1);
      if (!plain) {
        lua_getfield(L, -1, "err");
        msg = lua_tolstring(L, -1, &mlen);
      } else {
        msg = lua_tolstring(L, -1, &mlen);
      }
      Buf out = {0};
      buf_put(&out, "Error registering functions: ", 29);
      if (plain) buf_put(&out, "ERR ", 4);
      if (msg) buf_put(&out, msg, mlen);
      io.len = 0;
      buf_put(&io, out.p, out.len);
      free(out.p);
      lua_settop(L, 0);
      rc = 1;
    }
    loading = 0;
    lua_sethook(L, NULL, 0, 0);
  }
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_enablereadonlytable(L, -1, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, REG_GLOBALS_API);
  lua_setfield(L, -2, "__index");
  lua_enablereadonlytable(L, -1, 1);
  lua_pop(L, 1);
  return rc;
}

EXPORT(rd_unref) void rd_unref(int ref) { luaL_unref(states[ENGINE_FUNCTIONS], LUA_REGISTRYINDEX, ref); }
/* Releases an EVAL script's compiled function (evicted from the script cache). */
EXPORT(rd_eval_unref) void rd_eval_unref(int ref) { luaL_unref(states[ENGINE_EVAL], LUA_REGISTRYINDEX, ref); }

EXPORT(rd_sha1hex) char *rd_sha1hex(int len) {
  static char digest[41];
  sha1hex(digest, io.p, (size_t)len);
  return digest;
}
