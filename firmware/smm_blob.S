/* smm_blob.S - the linked SMM image, embedded in flash for tseg.c to copy. */
    .section .rodata.smmimage, "a"
    .balign 16
    .globl smm_image_start, smm_image_end
smm_image_start:
    .incbin SMM_BIN
smm_image_end:
