/*
 * smm_bcast.S - APM SMI broadcast through fw_cfg SMI feature negotiation (-smp 2;
 * platform.md §3.9, §4.1-4.6, tests 34, 38-41; QEMU docs/specs/fw_cfg.rst).
 *
 *   1. The AP is started and relocated (directed SMI) to 0x61000, so the two CPUs have
 *      separate save areas before any broadcast.
 *   2. Without negotiation a write to 0xB2 (APMC_EN set) SMIs only the writer.
 *   3. fw_cfg: signature, the file directory lookup of etc/smi/supported-features (0x7),
 *      requested-features (written by DMA) and features-ok. A request of 0x2 (hot-plug
 *      without broadcast) is rejected (features-ok 0); then 0x1 is accepted (1), and a
 *      later request changes nothing.
 *   4. Now a write to 0xB2 SMIs both CPUs; each enters at its own SMBASE and reads 0xB2.
 * The SMM stubs take a spin lock, so the two handlers run one after the other; they only
 * record, the BSP prints once both are done.
 */
#include "rom.h"
#include "smm_common.h"

#define LPC         0x8000F800
#define PMBASE      0x600
#define SMI_EN      (PMBASE + 0x30)
#define STEP        (SMV_TEST + 0x00)
#define REC_STUB(i) (SMV_TEST + 0x20 + 4 * (i))
#define REC_APM(i)  (SMV_TEST + 0x40 + 4 * (i))
#define REQ_KEY     (SMV_TEST + 0x60)
#define OK_KEY      (SMV_TEST + 0x64)
#define SUP_KEY     (SMV_TEST + 0x68)
#define DMA_DESC    0xD800
#define DMA_BUF     0xD840
#define DIRBUF      0xD900

    .text
    .code16
    .globl main16
main16:
    PUTS16 "rom: smm_bcast\n"
    RM_TO_PM32
    call idt32_init
    movl $AP_TRAMP, %edi
    call ap_tramp_install32
    movl $DEFAULT_SMBASE, %edi
    call smm_install_locked32
    movl $0x61000, %edi
    call smm_install_locked32
    SET_HOOK32 bcast_hook
    movl $1, %eax
    movl $(AP_TRAMP >> 12), %edx
    call ap_start32
    KV32 "ap.checked_in", AP_ALIVE(1), 2
    /* relocate the AP */
    movl $1, STEP
    IPI32 1, ICR_SMI
    WAIT32 SMV_DONE, 1
    KV32 "ap.relocated_from", REC_STUB(1)

    /* PM block and APMC_EN */
    movl $(LPC + 0x40), %eax
    movl $0x601, %ecx
    call pci_wr32
    movl $(LPC + 0x44), %eax
    movl $0x80, %ecx
    call pci_wr8
    movw $SMI_EN, %dx
    movl $0x21, %eax
    outl %eax, %dx

    /* no negotiation: only the writer */
    movl $2, STEP
    movb $0x00, %al
    outb %al, $0xB2
    jmp .
    call settle
    KV32 "nobcast.bsp_smm_entries", SMV_CNT(0), 2
    KV32 "nobcast.ap_smm_entries", SMV_CNT(1), 2

    /* fw_cfg */
    movw $0x0000, %ax
    call fw_select
    call fw_read32
    KV32 "fw_cfg.signature", %eax
    movl $s_sup, %esi
    call fw_find
    movl %eax, SUP_KEY
    movl $s_req, %esi
    call fw_find
    movl %eax, REQ_KEY
    movl $s_ok, %esi
    call fw_find
    movl %eax, OK_KEY
    xorl %eax, %eax
    cmpl $0, SUP_KEY
    setne %al
    cmpl $0, REQ_KEY
    setne %ah
    cmpl $0, OK_KEY
    setne %cl
    andb %cl, %al
    andb %ah, %al
    movzbl %al, %eax
    KV32 "fw_cfg.smi_files_found", %eax, 2
    movw SUP_KEY, %ax
    call fw_select
    call fw_read32
    KV32 "fw_cfg.supported_features.lo", %eax
    call fw_read32
    KV32 "fw_cfg.supported_features.hi", %eax
    movl $2, %eax
    call negotiate
    KV32 "negotiate.request2.features_ok", %eax, 2
    movl $1, %eax
    call negotiate
    KV32 "negotiate.request1.features_ok", %eax, 2
    movl $7, %eax
    call negotiate
    KV32 "negotiate.request7_after_lock.features_ok", %eax, 2

    /* broadcast: both CPUs */
    movl $3, STEP
    movl SMV_DONE, %edi
    addl $2, %edi
    movb $0x44, %al
    outb %al, $0xB2
    jmp .
    call wait_edi
    KV32 "bcast.bsp_smm_entries", SMV_CNT(0), 2
    KV32 "bcast.ap_smm_entries", SMV_CNT(1), 2
    KV32 "bcast.bsp_entered_at", REC_STUB(0)
    KV32 "bcast.ap_entered_at", REC_STUB(1)
    KV32 "bcast.bsp_apm_cnt", REC_APM(0), 2
    KV32 "bcast.ap_apm_cnt", REC_APM(1), 2
    PUTS32 "done\n"
    EXIT 0

settle:
    pushl %ecx
    movl $300000, %ecx
1:  pause
    loop 1b
    popl %ecx
    ret
wait_edi:                               /* until SMV_DONE >= EDI (bounded) */
    pushl %ecx
    movl $50000000, %ecx
1:  cmpl %edi, SMV_DONE
    jae 2f
    pause
    loop 1b
2:  popl %ecx
    ret

/* negotiate: EAX = requested features; DMA-writes them, selects features-ok, returns it */
negotiate:
    movl %eax, DMA_BUF
    movl $0, DMA_BUF + 4
    movl REQ_KEY, %eax
    shll $16, %eax
    orl $0x18, %eax                     /* select | write */
    bswapl %eax
    movl %eax, DMA_DESC
    movl $8, %eax
    bswapl %eax
    movl %eax, DMA_DESC + 4
    movl $0, DMA_DESC + 8
    movl $DMA_BUF, %eax
    bswapl %eax
    movl %eax, DMA_DESC + 12
    movw $0x514, %dx
    xorl %eax, %eax
    outl %eax, %dx
    movw $0x518, %dx
    movl $DMA_DESC, %eax
    bswapl %eax
    outl %eax, %dx
    movl DMA_DESC, %eax
    KV32 "negotiate.dma_control", %eax
    movw OK_KEY, %ax
    call fw_select
    movw $0x511, %dx
    inb %dx, %al
    movzbl %al, %eax
    ret

fw_select:                              /* AX = key */
    pushl %edx
    movw $0x510, %dx
    outw %ax, %dx
    popl %edx
    ret
fw_read32:                              /* next 4 data bytes, little endian */
    pushl %ecx
    pushl %edx
    movw $0x511, %dx
    movl $4, %ecx
1:  inb %dx, %al
    rorl $8, %eax
    loop 1b
    popl %edx
    popl %ecx
    ret
/* fw_find: ESI = NUL-terminated name; EAX = its key, 0 if absent */
fw_find:
    pushl %ebx
    pushl %ecx
    pushl %edx
    pushl %edi
    pushl %esi
    movw $0x19, %ax
    call fw_select
    call fw_read32
    bswapl %eax
    movl %eax, %ebx                     /* count */
1:  testl %ebx, %ebx
    jz 4f
    decl %ebx
    movl $DIRBUF, %edi
    movl $64, %ecx
    movw $0x511, %dx
    cld
    rep insb
    movl (%esp), %esi
    movl $(DIRBUF + 8), %edi
2:  movb (%esi), %al
    cmpb (%edi), %al
    jne 1b
    testb %al, %al
    jz 3f
    incl %esi
    incl %edi
    jmp 2b
3:  movzbl DIRBUF + 4, %eax
    shll $8, %eax
    movb DIRBUF + 5, %al
    jmp 5f
4:  xorl %eax, %eax
5:  popl %esi
    popl %edi
    popl %edx
    popl %ecx
    popl %ebx
    ret

pci_wr32:
    pushl %edx
    pushl %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    movl %ecx, %eax
    outl %eax, %dx
    popl %eax
    popl %edx
    ret
pci_wr8:                                /* register offset & 3 == 0 only */
    pushl %edx
    pushl %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    movl %ecx, %eax
    outb %al, %dx
    popl %eax
    popl %edx
    ret

    .section .rodata.str, "a"
s_sup:  .asciz "etc/smi/supported-features"
s_req:  .asciz "etc/smi/requested-features"
s_ok:   .asciz "etc/smi/features-ok"

/* in SMM (serialised by the stub's lock), EBX = SMBASE: records, prints nothing */
    .text
    .code16
bcast_hook:
    movl SMV_ID, %ecx
    movl %ebx, REC_STUB(0)(,%ecx,4)
    inb $0xB2, %al
    movzbl %al, %eax
    movl %eax, REC_APM(0)(,%ecx,4)
    cmpl $1, STEP
    jne 1f
    movl $0x61000, SS_SMBASE(%ebx)
1:  ret
