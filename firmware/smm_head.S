/*
 * smm_head.S - the head of the SMM image (read by the installer, struct smm_image_head in
 * smram.h) and the 32 exception entry points of the SMM IDT. Contract:
 * ../shared/spec/firmware.md §4.1 ("Any exception in SMM ... fatal smm-exception").
 * The image is linked at 0 and is position-independent: every field below is PC-relative.
 */
    .section .head, "a"
    .globl smm_head
smm_head:
    .quad 0x474d49534d4d4653
    .long smm_c_entry - .
    .long smm_exc_stubs - .
    .long smm - .
    .long __bss_start - .
    .long __image_end - .

    .text
    .code64
    .balign 16
    .globl smm_exc_stubs
smm_exc_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if (\v == 8) || (\v == 10) || (\v == 11) || (\v == 12) || (\v == 13) || (\v == 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
    pushq $\v
    .else
    pushq $0
    pushq $\v
    .endif
    jmp smm_exc_common
    .endr

smm_exc_common:
    movq (%rsp), %rdi   /* vector */
    movq 16(%rsp), %rsi /* RIP of the faulting instruction */
    andq $-16, %rsp
    call smm_exception
1:  cli
    hlt
    jmp 1b
