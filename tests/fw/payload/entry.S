/* entry.S - payload entry (RDI = boot info) and the 16-bit AP trampoline it starts hot-added
 * CPUs with (copied to 0x8000, SIPI vector 0x08). */
    .section .text.entry, "ax"
    .code64
    .globl payload_entry
payload_entry:
    call payload_main
1:  cli
    hlt
    jmp 1b

/* Entered from the S3 stub in 64-bit mode. */
resume64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq $resume_stack_top, %rsp
    call payload_resume
    jmp 1b

    .bss
    .balign 16
    .skip 16384
resume_stack_top:

    .section .rodata
    .code16
    .globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
    cli
    movw %cs, %ax
    movw %ax, %ds
    lock incl (0x100)   /* counter at 0x8100 */
2:  cli
    hlt
    jmp 2b
ap_tramp_end:

/* AP mailbox loop (copied to 0x9000, SIPI vector 0x09): raises APM 4 for the BSP, i.e. the
 * OS's GPE handler running on an AP (firmware.md §14 #17). */
    .globl ap_mail_start, ap_mail_end
ap_mail_start:
    cli
    movw %cs, %ax
    movw %ax, %ds
    lock incl (0x100)   /* 0x9100: started */
8:  cmpl $1, (0x104)    /* 0x9104: request */
    jne 9f
    movb $4, %al
    outb %al, $0xb2
    movw $64, %cx
10: pause
    loop 10b
    movl $0, (0x104)
9:  pause
    jmp 8b
ap_mail_end:

/* Real-mode S3 waking vector (copied to 0x7000): report, raise one broadcast SMI (APM 0) so
 * every relocated CPU passes its identity check, report again, halt. */
    .globl s3_stub_start, s3_stub_end
s3_stub_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movw $0x402, %dx
    movw $(s3_msg - s3_stub_start), %si
3:  lodsb
    testb %al, %al
    jz 4f
    outb %al, %dx
    jmp 3b
4:  movb $0, %al
    outb %al, $0xb2
    movw $2000, %cx
5:  pause
    loop 5b
    movw $0x402, %dx
    movw $(s3_msg2 - s3_stub_start), %si
6:  lodsb
    testb %al, %al
    jz 7f
    outb %al, %dx
    jmp 6b
7:  /* back to the payload in long mode, with the page tables it ran on before */
    lgdtl (s3_gdt_desc - s3_stub_start)
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl (s3_cr3 - s3_stub_start), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x900, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax
    movl %eax, %cr0
    ljmpl *(s3_far64 - s3_stub_start)
    .balign 8
s3_gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
s3_gdt_desc:
    .word 23
    .long 0x7000 + (s3_gdt - s3_stub_start)
    .globl s3_cr3
s3_cr3:
    .long 0
s3_far64:
    .long resume64
    .word 0x08
s3_msg:
    .asciz "payload: resumed\n"
s3_msg2:
    .asciz "payload: resumed smi done\n"
s3_stub_end:
