/* setjmp/longjmp for Lua's error handling. wasi-libc has none: clang lowers these calls
 * (-mllvm -wasm-enable-sjlj) to WebAssembly exceptions and the helpers in engine.c. */
#ifndef REDENO_SETJMP_H
#define REDENO_SETJMP_H
typedef struct { long regs[8]; } jmp_buf[1];
int setjmp(jmp_buf env);
_Noreturn void longjmp(jmp_buf env, int val);
#endif
