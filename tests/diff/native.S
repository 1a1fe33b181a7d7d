/*
 * native.S - runs one instruction on the host CPU with a chosen register
 * file. diff_native_enter saves the C context, loads RFLAGS and all sixteen
 * GPRs (RSP too) from diff_native_in and jumps to *diff_native_target; the
 * bytes there end in an absolute jump back to diff_native_exit (a branch
 * target gets one to diff_native_exit_taken), which stores every GPR and RFLAGS to diff_native_out
 * using RIP-relative addressing only (no register is assumed to hold
 * anything), then returns to C.
 *
 * Layout of both records: gpr[0..15] in encoding order (RAX RCX RDX RBX RSP
 * RBP RSI RDI R8..R15), then RFLAGS at offset 128.
 */
    .bss
    .balign 16
    .globl diff_native_in, diff_native_out, diff_native_target
    .skip 16 /* pushq 128(%rsp) below writes 8 bytes below diff_native_in */
diff_native_in:
    .skip 136
    .balign 16
diff_native_out:
    .skip 136
    .balign 8
diff_native_target:
    .skip 8
diff_host_rsp:
    .skip 8
    .globl diff_native_taken
diff_native_taken:
    .skip 8
    .globl diff_native_far
diff_native_far: /* m16:32 for the far jump into compatibility mode */
    .skip 8

    .text
    .globl diff_native_enter, diff_native_exit, diff_native_exit_taken
    .globl diff_native_far_jump, diff_native_set_ds_es
    .type diff_native_enter, @function
diff_native_enter:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, diff_host_rsp(%rip)
    lea diff_native_in(%rip), %rsp
    pushq 128(%rsp)
    popfq
    pop %rax
    pop %rcx
    pop %rdx
    pop %rbx
    lea 8(%rsp), %rsp /* RSP is loaded last */
    pop %rbp
    pop %rsi
    pop %rdi
    pop %r8
    pop %r9
    pop %r10
    pop %r11
    pop %r12
    pop %r13
    pop %r14
    pop %r15
    mov -96(%rsp), %rsp /* gpr[4]: %rsp is diff_native_in + 128 here */
    jmp *diff_native_target(%rip)

/* A branch target's exit: notes that the branch was taken (MOV leaves the
 * flags alone) and joins the common exit. */
diff_native_exit_taken:
    movb $1, diff_native_taken(%rip)
diff_native_exit:
    mov %rsp, diff_native_out+32(%rip)
    lea diff_native_out+136(%rip), %rsp
    pushfq
    push %r15
    push %r14
    push %r13
    push %r12
    push %r11
    push %r10
    push %r9
    push %r8
    push %rdi
    push %rsi
    push %rbp
    lea -8(%rsp), %rsp /* RSP's slot was written first */
    push %rbx
    push %rdx
    push %rcx
    push %rax
    mov diff_host_rsp(%rip), %rsp
    cld
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .size diff_native_enter, . - diff_native_enter

/* Compatibility-mode cases set diff_native_target here: a far jump (m16:32)
 * to the instruction in the 32-bit user code segment. JMP changes no flag. */
diff_native_far_jump:
    ljmpl *diff_native_far(%rip)

/* void diff_native_set_ds_es(unsigned selector): 64-bit processes run with
 * null DS/ES, on which compatibility-mode data accesses would fault. */
diff_native_set_ds_es:
    movl %edi, %ds
    movl %edi, %es
    ret

    .section .note.GNU-stack, "", @progbits
