/*
 * dsdt.c - the DSDT body (firmware.md §6.1, platform.md §5.8): PCI0 with the CPU hot-plug
 * register block PRES (mutex CPLK), SMI0 (only when N has bit 1), FWCF, and CPUS with one
 * processor device per possible CPU plus CSTA/CEJ0/COST/CTFY/CSCN; \_GPE._E02 runs CSCN.
 * CSCN raises APM command 4 before any device-check Notify when N has bit 1; _EJ0 hands the
 * eject to SMM (fw_remove + APM 4) when N has bit 2 and writes the eject bit otherwise.
 */
#include "aml.h"
#include "boot.h"
#include "platform.h"

void dsdt_build(void)
{
    uint32_t P = bs.possible;
    int hotplug = (bs.negotiated & 2) != 0, unplug = (bs.negotiated & 4) != 0;
    char dev[6], path[24];
    uint8_t bus[] = {0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
                     0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x47, 0x01, 0xf8, 0x0c,
                     0xf8, 0x0c, 0x01, 0x08, 0x79, 0x00};

    aml_scope("\\_SB");
    aml_device("PCI0");
    aml_name_op("_HID");
    aml_eisa("PNP0A08");
    aml_name_op("_CID");
    aml_eisa("PNP0A03");
    aml_name_op("_UID");
    aml_int(0);
    aml_name_op("_CRS");
    aml_buffer(bus, sizeof(bus));

    aml_device("PRES");
    aml_name_op("_HID");
    aml_eisa("PNP0A06");
    aml_name_op("_UID");
    aml_string("CPU Hotplug resources");
    aml_name_op("_CRS");
    aml_io_resource(CPUHP_SEL, 0x0c);
    aml_byte(0x5b); /* Mutex (CPLK, 0) */
    aml_byte(0x01);
    aml_name("CPLK");
    aml_byte(0);
    aml_byte(0x5b); /* OperationRegion (PRST, SystemIO, 0x0CD8, 0x0C) */
    aml_byte(0x80);
    aml_name("PRST");
    aml_byte(0x01);
    aml_int(CPUHP_SEL);
    aml_int(0x0c);
    aml_byte(0x5b); /* Field (PRST, ByteAcc, NoLock, WriteAsZeros) */
    aml_byte(0x81);
    aml_pkg_begin();
    aml_name("PRST");
    aml_byte(0x41);
    aml_byte(0x00); /* reserved 32 bits: the selector dword */
    aml_byte(0x20);
    aml_nameseg("CPEN", 4); aml_byte(1);
    aml_nameseg("CINS", 4); aml_byte(1);
    aml_nameseg("CRMV", 4); aml_byte(1);
    aml_nameseg("CEJ0", 4); aml_byte(1);
    aml_nameseg("CEJF", 4); aml_byte(1);
    aml_byte(0x00); aml_byte(3);
    aml_nameseg("CCMD", 4); aml_byte(8);
    aml_pkg_end();
    aml_byte(0x5b); /* Field (PRST, DWordAcc, NoLock, Preserve) */
    aml_byte(0x81);
    aml_pkg_begin();
    aml_name("PRST");
    aml_byte(0x03);
    aml_nameseg("CSEL", 4); aml_byte(0x20);
    aml_byte(0x00); aml_byte(0x20);
    aml_nameseg("CDAT", 4); aml_byte(0x20);
    aml_pkg_end();
    aml_pkg_end(); /* PRES */

    if (hotplug) {
        aml_device("SMI0");
        aml_name_op("_HID");
        aml_eisa("PNP0A06");
        aml_name_op("_UID");
        aml_string("SMI resources");
        aml_name_op("_CRS");
        aml_io_resource(APM_CNT, 2);
        aml_byte(0x5b);
        aml_byte(0x80);
        aml_name("SMIR");
        aml_byte(0x01);
        aml_int(APM_CNT);
        aml_int(2);
        aml_byte(0x5b);
        aml_byte(0x81);
        aml_pkg_begin();
        aml_name("SMIR");
        aml_byte(0x41);
        aml_nameseg("SMIC", 4);
        aml_byte(8);
        aml_pkg_end();
        aml_pkg_end();
    }

    aml_device("FWCF");
    aml_name_op("_HID");
    aml_string("QEMU0002");
    aml_name_op("_STA");
    aml_int(0x0b);
    aml_name_op("_CRS");
    aml_io_resource(FWCFG_PORT_SEL, 0x0c);
    aml_pkg_end();
    aml_pkg_end(); /* PCI0 */

    aml_device("CPUS");
    aml_name_op("_HID");
    aml_string("ACPI0010");
    aml_name_op("_CID");
    aml_eisa("PNP0A05");

    /* CSTA(slot): 0xF when enabled */
    aml_method("CSTA", 1, 1);
    aml_acquire("\\_SB.PCI0.PRES.CPLK");
    aml_byte(AML_STORE); aml_byte(AML_ARG(0)); aml_name("\\_SB.PCI0.PRES.CSEL");
    aml_byte(AML_STORE); aml_int(0); aml_byte(AML_LOCAL(0));
    aml_if();
    aml_byte(AML_LEQUAL); aml_name("\\_SB.PCI0.PRES.CPEN"); aml_int(1);
    aml_byte(AML_STORE); aml_int(0x0f); aml_byte(AML_LOCAL(0));
    aml_pkg_end();
    aml_release("\\_SB.PCI0.PRES.CPLK");
    aml_byte(AML_RETURN); aml_byte(AML_LOCAL(0));
    aml_pkg_end();

    /* CEJ0(slot): hand the eject to SMM (fw_remove + APM 4) or eject directly */
    aml_method("CEJ0", 1, 1);
    aml_acquire("\\_SB.PCI0.PRES.CPLK");
    aml_byte(AML_STORE); aml_byte(AML_ARG(0)); aml_name("\\_SB.PCI0.PRES.CSEL");
    if (unplug) {
        aml_store_int(1, "\\_SB.PCI0.PRES.CEJF");
        aml_store_int(APM_CMD_HOTPLUG, "\\_SB.PCI0.SMI0.SMIC");
    } else {
        aml_store_int(1, "\\_SB.PCI0.PRES.CEJ0");
    }
    aml_release("\\_SB.PCI0.PRES.CPLK");
    aml_pkg_end();

    /* COST(slot, event, status, buf) */
    aml_method("COST", 4, 1);
    aml_acquire("\\_SB.PCI0.PRES.CPLK");
    aml_byte(AML_STORE); aml_byte(AML_ARG(0)); aml_name("\\_SB.PCI0.PRES.CSEL");
    aml_store_int(1, "\\_SB.PCI0.PRES.CCMD");
    aml_byte(AML_STORE); aml_byte(AML_ARG(1)); aml_name("\\_SB.PCI0.PRES.CDAT");
    aml_store_int(2, "\\_SB.PCI0.PRES.CCMD");
    aml_byte(AML_STORE); aml_byte(AML_ARG(2)); aml_name("\\_SB.PCI0.PRES.CDAT");
    aml_release("\\_SB.PCI0.PRES.CPLK");
    aml_pkg_end();

    for (uint32_t s = 0; s < P; s++) {
        dev[0] = 'C';
        dev[1] = "0123456789ABCDEF"[(s >> 8) & 15];
        dev[2] = "0123456789ABCDEF"[(s >> 4) & 15];
        dev[3] = "0123456789ABCDEF"[s & 15];
        dev[4] = 0;
        aml_device(dev);
        aml_name_op("_HID");
        aml_string("ACPI0007");
        aml_name_op("_UID");
        aml_int(s);
        aml_method("_STA", 0, 0);
        aml_byte(AML_RETURN); aml_name("CSTA"); aml_int(s);
        aml_pkg_end();
        aml_method("_MAT", 0, 0);
        uint8_t mat[8] = {0, 8, (uint8_t)s, (uint8_t)bs.apic[s], 1, 0, 0, 0};
        aml_if();
        aml_byte(AML_LEQUAL); aml_name("CSTA"); aml_int(s); aml_int(0x0f);
        aml_byte(AML_RETURN); aml_buffer(mat, 8);
        aml_pkg_end();
        mat[4] = 0;
        aml_byte(AML_RETURN); aml_buffer(mat, 8);
        aml_pkg_end();
        aml_method("_OST", 3, 0);
        aml_name("COST"); aml_int(s); aml_byte(AML_ARG(0)); aml_byte(AML_ARG(1)); aml_byte(AML_ARG(2));
        aml_pkg_end();
        if (s != 0) {
            aml_method("_EJ0", 1, 0);
            aml_name("CEJ0"); aml_int(s);
            aml_pkg_end();
        }
        aml_pkg_end();
    }

    /* CTFY(slot, code): Notify the slot's processor device */
    aml_method("CTFY", 2, 0);
    for (uint32_t s = 0; s < P; s++) {
        aml_if();
        aml_byte(AML_LEQUAL); aml_byte(AML_ARG(0)); aml_int(s);
        aml_byte(AML_NOTIFY);
        path[0] = 'C';
        path[1] = "0123456789ABCDEF"[(s >> 8) & 15];
        path[2] = "0123456789ABCDEF"[(s >> 4) & 15];
        path[3] = "0123456789ABCDEF"[s & 15];
        path[4] = 0;
        aml_name(path);
        aml_byte(AML_ARG(1));
        aml_pkg_end();
    }
    aml_pkg_end();

    /* CSCN: collect inserted CPUs, SMI before any Notify (N bit 1), handle eject requests */
    aml_method("CSCN", 0, 1);
    aml_acquire("\\_SB.PCI0.PRES.CPLK");
    aml_name_op("CNEW");
    aml_byte(0x12); aml_pkg_begin(); aml_byte(0xff); aml_pkg_end(); /* Package (0xFF) {} */
    aml_byte(AML_STORE); aml_int(1); aml_byte(AML_LOCAL(3));
    aml_while();
    aml_byte(AML_LEQUAL); aml_byte(AML_LOCAL(3)); aml_int(1);
    aml_byte(AML_STORE); aml_int(0); aml_byte(AML_LOCAL(3));
    aml_byte(AML_STORE); aml_int(0); aml_byte(AML_LOCAL(1));
    aml_byte(AML_STORE); aml_int(0); aml_byte(AML_LOCAL(5));
    aml_while();
    aml_byte(AML_LLESS); aml_byte(AML_LOCAL(5)); aml_int(P);
    aml_byte(AML_STORE); aml_byte(AML_LOCAL(5)); aml_name("\\_SB.PCI0.PRES.CSEL");
    aml_store_int(0, "\\_SB.PCI0.PRES.CCMD");
    aml_if(); /* wrapped */
    aml_byte(AML_LLESS); aml_name("\\_SB.PCI0.PRES.CDAT"); aml_byte(AML_LOCAL(5));
    aml_byte(AML_BREAK);
    aml_pkg_end();
    aml_if(); /* list full: another pass */
    aml_byte(AML_LEQUAL); aml_byte(AML_LOCAL(1)); aml_int(0xff);
    aml_byte(AML_STORE); aml_int(1); aml_byte(AML_LOCAL(3));
    aml_byte(AML_BREAK);
    aml_pkg_end();
    aml_byte(AML_STORE); aml_name("\\_SB.PCI0.PRES.CDAT"); aml_byte(AML_LOCAL(5));
    aml_if();
    aml_byte(AML_LEQUAL); aml_name("\\_SB.PCI0.PRES.CINS"); aml_int(1);
    aml_byte(AML_STORE); aml_byte(AML_LOCAL(5)); aml_byte(AML_INDEX); aml_name("CNEW"); aml_byte(AML_LOCAL(1)); aml_byte(0x00);
    aml_byte(AML_INCR); aml_byte(AML_LOCAL(1));
    aml_pkg_end();
    aml_byte(0xa1); aml_pkg_begin(); /* Else */
    aml_if();
    aml_byte(AML_LEQUAL); aml_name("\\_SB.PCI0.PRES.CRMV"); aml_int(1);
    aml_name("CTFY"); aml_byte(AML_LOCAL(5)); aml_int(3);
    aml_store_int(1, "\\_SB.PCI0.PRES.CRMV");
    aml_pkg_end();
    aml_pkg_end();
    aml_byte(AML_INCR); aml_byte(AML_LOCAL(5));
    aml_pkg_end(); /* inner while */
    aml_if(); /* something collected: SMI first (N bit 1), and scan again afterwards */
    aml_byte(AML_LGREATER); aml_byte(AML_LOCAL(1)); aml_int(0);
    if (hotplug)
        aml_store_int(APM_CMD_HOTPLUG, "\\_SB.PCI0.SMI0.SMIC");
    aml_byte(AML_STORE); aml_int(1); aml_byte(AML_LOCAL(3));
    aml_pkg_end();
    aml_byte(AML_STORE); aml_int(0); aml_byte(AML_LOCAL(2));
    aml_while();
    aml_byte(AML_LLESS); aml_byte(AML_LOCAL(2)); aml_byte(AML_LOCAL(1));
    aml_byte(AML_STORE); aml_byte(AML_DEREF); aml_byte(AML_INDEX); aml_name("CNEW"); aml_byte(AML_LOCAL(2)); aml_byte(0x00); aml_byte(AML_LOCAL(5));
    aml_name("CTFY"); aml_byte(AML_LOCAL(5)); aml_int(1);
    aml_byte(AML_STORE); aml_byte(AML_LOCAL(5)); aml_name("\\_SB.PCI0.PRES.CSEL");
    aml_store_int(1, "\\_SB.PCI0.PRES.CINS");
    aml_byte(AML_INCR); aml_byte(AML_LOCAL(2));
    aml_pkg_end();
    aml_pkg_end(); /* outer while */
    aml_release("\\_SB.PCI0.PRES.CPLK");
    aml_pkg_end(); /* CSCN */
    aml_pkg_end(); /* CPUS */
    aml_pkg_end(); /* \_SB */

    aml_scope("\\_GPE");
    aml_name_op("_HID");
    aml_string("ACPI0006");
    aml_method("_E02", 0, 0);
    aml_name("\\_SB.CPUS.CSCN");
    aml_pkg_end();
    aml_pkg_end();

    if (bs.s3_enabled) {
        /* \_S3 only when S3 is enabled in etc/system-states (smmfw implements the resume) */
        aml_name_op("\\_S3");
        aml_byte(0x12);
        aml_pkg_begin();
        aml_byte(4);
        aml_int(bs.system_states[3] & 7);
        aml_int(0);
        aml_int(0);
        aml_int(0);
        aml_pkg_end();
    }
    /* \_S5: SLP_TYP from etc/system-states (byte 5), else 0 */
    aml_name_op("\\_S5");
    aml_byte(0x12);
    aml_pkg_begin();
    aml_byte(4);
    aml_int(bs.system_states[5] & 7);
    aml_int(0);
    aml_int(0);
    aml_int(0);
    aml_pkg_end();
}
