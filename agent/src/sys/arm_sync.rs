//! The atomic operations of an ARMv6 build compiled as Thumb code.
//!
//! armv6 is built as Thumb (T16) code: a quarter smaller than ARM code
//! (targets/armv6.env). Thumb on ARMv6 has no exclusive loads and stores,
//! so LLVM turns every atomic operation into a call to GCC's `__sync_*`
//! functions, which neither musl nor Rust's compiler-builtins provide for
//! this target. They are here, written in ARM code (which the same cores
//! run, called through BLX), with the instructions ARMv6K has and the
//! ARM-code build already used: LDREX/STREX on bytes, words and
//! doublewords, and the CP15 data memory barrier (ARMv6 has no DMB
//! instruction).
//!
//! Invariants: each function is a full barrier before and after (GCC's
//! documented meaning of `__sync_*`, stronger than any Rust ordering
//! asks), retries only when the store-exclusive failed (another writer
//! came between), and clears the exclusive monitor when a compare fails.
//! Only the functions the build calls are here: a new one shows as an
//! undefined symbol at link time, never as a silent fallback.
//! Arguments and results follow the AAPCS: a 64-bit value in an even
//! register pair, the third one of `__sync_val_compare_and_swap_8` on the
//! stack; byte results zero-extended.

core::arch::global_asm!(
    ".pushsection .text.sonde_sync,\"ax\",%progbits",
    // Module assembly is read with the target's base features, not the
    // ones the code is compiled with: name the architecture the ARM-code
    // build already needed (its atomics used LDREXB and LDREXD).
    ".arch armv6k",
    ".arm",
    ".p2align 2",
    // The CP15 barrier's register should be zero; every caller of
    // `barrier` has r12 free.
    ".macro barrier",
    "mov r12, #0",
    "mcr p15, 0, r12, c7, c10, 5",
    ".endm",
    // __sync_synchronize(void)
    ".globl __sync_synchronize",
    ".type __sync_synchronize, %function",
    "__sync_synchronize:",
    "barrier",
    "bx lr",
    // __sync_fetch_and_add_4(ptr r0, value r1) -> old
    ".globl __sync_fetch_and_add_4",
    ".type __sync_fetch_and_add_4, %function",
    "__sync_fetch_and_add_4:",
    "barrier",
    "1: ldrex r2, [r0]",
    "add r3, r2, r1",
    "strex r12, r3, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "barrier",
    "mov r0, r2",
    "bx lr",
    // __sync_fetch_and_sub_4(ptr r0, value r1) -> old
    ".globl __sync_fetch_and_sub_4",
    ".type __sync_fetch_and_sub_4, %function",
    "__sync_fetch_and_sub_4:",
    "barrier",
    "1: ldrex r2, [r0]",
    "sub r3, r2, r1",
    "strex r12, r3, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "barrier",
    "mov r0, r2",
    "bx lr",
    // __sync_lock_test_and_set_1(ptr r0, value r1) -> old
    ".globl __sync_lock_test_and_set_1",
    ".type __sync_lock_test_and_set_1, %function",
    "__sync_lock_test_and_set_1:",
    "barrier",
    "1: ldrexb r2, [r0]",
    "strexb r12, r1, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "barrier",
    "mov r0, r2",
    "bx lr",
    // __sync_lock_test_and_set_4(ptr r0, value r1) -> old
    ".globl __sync_lock_test_and_set_4",
    ".type __sync_lock_test_and_set_4, %function",
    "__sync_lock_test_and_set_4:",
    "barrier",
    "1: ldrex r2, [r0]",
    "strex r12, r1, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "barrier",
    "mov r0, r2",
    "bx lr",
    // __sync_lock_test_and_set_8(ptr r0, value r2:r3) -> old r0:r1
    ".globl __sync_lock_test_and_set_8",
    ".type __sync_lock_test_and_set_8, %function",
    "__sync_lock_test_and_set_8:",
    "push {{r4, r5}}",
    "mov r4, r2",
    "mov r5, r3",
    "barrier",
    "1: ldrexd r2, r3, [r0]",
    "strexd r12, r4, r5, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "barrier",
    "mov r0, r2",
    "mov r1, r3",
    "pop {{r4, r5}}",
    "bx lr",
    // __sync_val_compare_and_swap_1(ptr r0, expected r1, new r2) -> old
    ".globl __sync_val_compare_and_swap_1",
    ".type __sync_val_compare_and_swap_1, %function",
    "__sync_val_compare_and_swap_1:",
    "uxtb r1, r1",
    "barrier",
    "1: ldrexb r3, [r0]",
    "cmp r3, r1",
    "bne 2f",
    "strexb r12, r2, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "b 3f",
    "2: clrex",
    "3: barrier",
    "mov r0, r3",
    "bx lr",
    // __sync_val_compare_and_swap_4(ptr r0, expected r1, new r2) -> old
    ".globl __sync_val_compare_and_swap_4",
    ".type __sync_val_compare_and_swap_4, %function",
    "__sync_val_compare_and_swap_4:",
    "barrier",
    "1: ldrex r3, [r0]",
    "cmp r3, r1",
    "bne 2f",
    "strex r12, r2, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "b 3f",
    "2: clrex",
    "3: barrier",
    "mov r0, r3",
    "bx lr",
    // __sync_val_compare_and_swap_8(ptr r0, expected r2:r3, new [sp]) -> old r0:r1
    ".globl __sync_val_compare_and_swap_8",
    ".type __sync_val_compare_and_swap_8, %function",
    "__sync_val_compare_and_swap_8:",
    "push {{r4, r5, r6, r7}}",
    "ldrd r4, r5, [sp, #16]",
    "barrier",
    "1: ldrexd r6, r7, [r0]",
    "cmp r6, r2",
    "cmpeq r7, r3",
    "bne 2f",
    "strexd r12, r4, r5, [r0]",
    "cmp r12, #0",
    "bne 1b",
    "b 3f",
    "2: clrex",
    "3: barrier",
    "mov r0, r6",
    "mov r1, r7",
    "pop {{r4, r5, r6, r7}}",
    "bx lr",
    ".purgem barrier",
    ".thumb",
    ".popsection",
);
