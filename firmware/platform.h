/*
 * platform.h - Q35/ICH9 register numbers and the fixed constants of the smmfw contract.
 * Contract: ../shared/spec/firmware.md §2.1, ../shared/spec/platform.md §2–§5.
 */
#ifndef SMMFW_PLATFORM_H
#define SMMFW_PLATFORM_H

#define SMMFW_VERSION "0.1.0"

/* MCH 00:00.0 */
#define MCH_VENDOR_DEVICE     0x29c08086u
#define MCH_EXT_TSEG_MBYTES   0x50
#define MCH_PAM0              0x90
#define MCH_SMBASE_CTL        0x9c /* QEMU-specific default-SMBASE window control */
#define MCH_SMBASE_QUERY      0xff
#define MCH_SMBASE_IN_RAM     0x01
#define MCH_SMBASE_LCK        0x02
#define MCH_SMRAM             0x9d
#define MCH_SMRAM_G_SMRAME    0x08
#define MCH_SMRAM_D_LCK       0x10
#define MCH_SMRAM_D_OPEN      0x40
#define MCH_ESMRAMC           0x9e
#define MCH_ESMRAMC_T_EN      0x01
#define MCH_ESMRAMC_SZ_8M     (2u << 1)
#define MCH_ESMRAMC_SZ_EXT    (3u << 1)
#define MCH_ESMRAMC_EMULATED  0x38 /* bits 5:3 read 1 when SMRAM exists */
#define MCH_TSEGMB            0xac
#define MCH_TOLUD             0xb0

/* LPC 00:1F.0 */
#define LPC_VENDOR_DEVICE     0x29188086u
#define LPC_PMBASE            0x40
#define LPC_ACPI_CTRL         0x44
#define LPC_ACPI_CTRL_ACPI_EN 0x80
#define LPC_GEN_PMCON_1       0xa0
#define LPC_SMI_LOCK          0x10

/* PM block */
#define PMBASE                0x600
#define PM1_STS               (PMBASE + 0x00)
#define PM1_EN                (PMBASE + 0x02)
#define PM1_CNT               (PMBASE + 0x04)
#define PM1_TMR               (PMBASE + 0x08)
#define GPE0_STS              (PMBASE + 0x20)
#define GPE0_EN               (PMBASE + 0x28)
#define SMI_EN                (PMBASE + 0x30)
#define SMI_EN_GBL_SMI_EN     0x01u
#define SMI_EN_APMC_EN        0x20u
#define PM_TMR_HZ             3579545u

/* APM */
#define APM_CNT               0xb2
#define APM_STS               0xb3
#define APM_CMD_HOTPLUG       0x04

/* CPU hot-plug block (modern mode) */
#define CPUHP_SEL             0x0cd8 /* W32 selector, R32 CMD_DATA2 */
#define CPUHP_STATUS          0x0cdc /* R8 status, W8 control */
#define CPUHP_CMD             0x0cdd
#define CPUHP_DATA            0x0ce0
#define CPUHP_ST_ENABLED      0x01
#define CPUHP_ST_INSERT       0x02
#define CPUHP_ST_REMOVE       0x04
#define CPUHP_ST_FW_REMOVE    0x10
#define CPUHP_CTL_EJECT       0x08
#define CPUHP_CMD_GET_PENDING 0
#define CPUHP_CMD_GET_ARCH_ID 3

/* fw_cfg */
#define FWCFG_PORT_SEL        0x510
#define FWCFG_PORT_DATA       0x511
#define FWCFG_PORT_DMA_HI     0x514
#define FWCFG_PORT_DMA_LO     0x518
#define FWCFG_KEY_SIGNATURE   0x0000
#define FWCFG_KEY_ID          0x0001
#define FWCFG_KEY_RAM_SIZE    0x0003
#define FWCFG_KEY_NB_CPUS     0x0005
#define FWCFG_KEY_FILE_DIR    0x0019

/* Window, pen, SMBASE */
#define WINDOW_BASE           0x30000u
#define WINDOW_SIZE           0x20000u
#define FIRST_SMI_ENTRY       0x38000u
#define DEFAULT_SAVE_AREA     0x3fe00u
#define PEN_BASE              0x9f000u
#define PEN_SEGMENT           0x9f00u
#define PEN_VECTOR            0x9fu
#define PEN_FLAG              0x9ffffu
#define TILE_OFFSET           0x1000u
#define TILE_STRIDE           0x2000u
#define SMMFW_MAX_CPUS        255u
#define SMM_STACK_BYTES       0x2000u

/* Local APIC */
#define APIC_BASE_MSR         0x1b
#define APIC_BASE_BSP         (1u << 8)
#define APIC_BASE_X2APIC      (1u << 10)
#define APIC_BASE_ENABLE      (1u << 11)
#define APIC_DEFAULT_BASE     0xfee00000u

#define DEBUGCON_PORT         0x402

/* Time-outs, firmware.md §4.5, in PM timer ticks. */
#define MS_TICKS(ms)          ((uint64_t)(ms) * PM_TMR_HZ / 1000u)
#define US_TICKS(us)          ((uint64_t)(us) * PM_TMR_HZ / 1000000u)
#define T_SYNC                MS_TICKS(100)
#define T_DETECT              MS_TICKS(100)
#define T_GATE_TAKEN          MS_TICKS(1000)
#define T_GATE_HELD           MS_TICKS(100)
#define T_INIT                MS_TICKS(10)
#define T_SIPI                US_TICKS(200)
#define T_LEAVE               MS_TICKS(100)
#define T_SPONT               MS_TICKS(1)
#define T_ARRIVE              MS_TICKS(100)
#define T_PARK                MS_TICKS(100)
#define T_RELEASE             MS_TICKS(300000) /* AP waiting for the monarch to finish a round */

#endif
