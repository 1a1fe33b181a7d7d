/*
 * cpu_plug_test.c - CPU life cycle on a real machine (a 64 KiB BIOS that
 * halts): device_add checks in QEMU's order and messages, nothing changing
 * on a refusal, the insert event and GPE, NB_CPUS and CMOS 0x5F, device_del
 * rules, the eject through the 0x0CD8 registers with its events, the freed
 * object and a re-plug of the same slot (platform.md §5.5-5.7).
 */
#define _DEFAULT_SOURCE /* mkstemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/cpu_hotplug.h"
#include "machine/machine.h"

#define HP CPU_HOTPLUG_BASE

struct fixture {
    char bios[64];
    struct machine *m;
    struct machine_event events[16];
    char paths[16][112], devices[16][64];
    unsigned n_events;
};

static void record(void *opaque, const struct machine_event *ev)
{
    struct fixture *f = opaque;
    if (f->n_events == 16)
        return;
    f->events[f->n_events] = *ev;
    snprintf(f->paths[f->n_events], sizeof(f->paths[0]), "%s", ev->path ? ev->path : "");
    snprintf(f->devices[f->n_events], sizeof(f->devices[0]), "%s", ev->device ? ev->device : "");
    f->n_events++;
}

static struct machine *make(struct fixture *f, unsigned cpus, unsigned maxcpus)
{
    struct machine_config cfg;
    machine_config_default(&cfg);
    cfg.bios_path = f->bios;
    cfg.cpus = cpus;
    cfg.max_cpus = maxcpus;
    cfg.sockets = 1;
    cfg.cores = maxcpus; /* QEMU 7.2's default for -smp N,maxcpus=M */
    cfg.threads = 1;
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    machine_set_event_handler(m, record, f);
    return m;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->bios, sizeof(f->bios), "/tmp/smmvm-plug-test-XXXXXX");
    int fd = mkstemp(f->bios);
    static uint8_t image[65536];
    memset(image, 0xF4, sizeof(image)); /* reset vector: cli; hlt; jmp $-1 */
    image[0xFFF0] = 0xFA;
    image[0xFFF1] = 0xF4;
    image[0xFFF2] = 0xEB;
    image[0xFFF3] = 0xFD;
    assert_int_equal(write(fd, image, sizeof(image)), (ssize_t)sizeof(image));
    close(fd);
    f->m = make(f, 1, 4);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    machine_free(f->m);
    unlink(f->bios);
    free(f);
    return 0;
}

/* device_add from an HMP-style option string. */
static bool add(struct machine *m, const char *opts, struct plug_error *e)
{
    char buf[256];
    struct dev_prop props[16];
    snprintf(buf, sizeof(buf), "%s", opts);
    unsigned n = dev_props_parse(buf, props, 16);
    assert_true(n <= 16);
    return machine_device_add(m, props, n, false, e);
}

static void expect_refused(struct machine *m, const char *opts, const char *desc)
{
    struct plug_error e;
    unsigned present = m->n_present;
    assert_false(add(m, opts, &e));
    assert_string_equal(e.desc, desc);
    assert_int_equal(m->n_present, present);
}

static uint16_t nb_cpus(struct machine *m)
{
    const struct fw_cfg_item *it = fw_cfg_find_key(&m->chipset.fw_cfg, FW_CFG_NB_CPUS);
    return (uint16_t)(it->data[0] | it->data[1] << 8);
}

static void test_device_add_checks_in_qemus_order(void **state)
{
    struct fixture *f = *state;
    struct machine *m = f->m;
    expect_refused(m, "nosuch", "'nosuch' is not a valid device model name");
    expect_refused(m, "qemu64-x86_64-cpu,id=1bad", "Parameter 'id' expects an identifier");
    expect_refused(m, "qemu64-x86_64-cpu,bogus=1", "Property 'qemu64-x86_64-cpu.bogus' not found");
    expect_refused(m, "qemu64-x86_64-cpu,core-id=x", "Parameter 'core-id' expects integer");
    expect_refused(m, "qemu64-x86_64-cpu,core-id=99999999999", "Parameter 'core-id' expects int32_t");
    expect_refused(m, "max-x86_64-cpu,core-id=1", "Invalid CPU type, expected cpu type: 'qemu64-x86_64-cpu'");
    expect_refused(m, "qemu64-x86_64-cpu", "CPU socket-id is not set");
    expect_refused(m, "qemu64-x86_64-cpu,socket-id=1", "Invalid CPU socket-id: 1 must be in range 0:0");
    expect_refused(m, "qemu64-x86_64-cpu,socket-id=0", "CPU core-id is not set");
    expect_refused(m, "qemu64-x86_64-cpu,socket-id=0,core-id=9,thread-id=0",
                   "Invalid CPU core-id: 9 must be in range 0:3");
    expect_refused(m, "qemu64-x86_64-cpu,socket-id=0,core-id=1", "CPU thread-id is not set");
    expect_refused(m, "qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0", "CPU[0] with APIC ID 0 exists");
    expect_refused(m, "qemu64-x86_64-cpu,apic-id=7",
                   "Invalid CPU [socket: 1, die: 0, core: 3, thread: 0] with APIC ID 7, valid index range 0:3");
    expect_refused(m, "qemu64-x86_64-cpu,apic-id=2,core-id=1",
                   "property core-id: 1 doesn't match set apic-id: 0x2 (core-id: 2)");
    /* broadcast negotiated without hot-plug: refused before any topology check */
    m->chipset.fw_cfg.smi_negotiated = 1;
    struct plug_error e;
    assert_false(add(m, "qemu64-x86_64-cpu", &e));
    assert_string_equal(e.desc, "cpu hotplug with SMI wasn't enabled by firmware");
    assert_non_null(strstr(e.hint, "firmware"));
    assert_null(m->cpus[1]);
    assert_int_equal(m->chipset.hotplug.slot[1].insert, false);
    assert_int_equal(f->n_events, 0);
}

static void test_hot_add_raises_insert_gpe_and_counts(void **state)
{
    struct fixture *f = *state;
    struct machine *m = f->m;
    struct plug_error e;
    assert_int_equal(nb_cpus(m), 1);
    assert_true(add(m, "qemu64-x86_64-cpu,socket-id=0,core-id=2,thread-id=0,id=c2", &e));
    assert_non_null(m->cpus[2]);
    assert_int_equal(m->cpus[2]->apic_id, 2);
    assert_int_equal(m->cpus[2]->state, CPU_WAIT_SIPI);
    assert_string_equal(m->slot[2].qom_path, "/machine/peripheral/c2");
    assert_true(m->chipset.hotplug.slot[2].insert);
    assert_true(m->chipset.pm.gpe_sts[0] & 0x04);
    assert_int_equal(nb_cpus(m), 2);
    assert_int_equal(rtc_cmos_get(&m->chipset.rtc, 0x5F), 1);
    expect_refused(m, "qemu64-x86_64-cpu,socket-id=0,core-id=3,thread-id=0,id=c2", "Duplicate device ID 'c2'");
    /* the string form of a number is accepted, as QEMU's visitors do; anonymous path */
    assert_true(add(m, "qemu64-x86_64-cpu,socket-id=0,core-id=0x1,thread-id=0", &e));
    assert_string_equal(m->slot[1].qom_path, "/machine/peripheral-anon/device[0]");
    assert_int_equal(m->n_present, 3);
}

static void test_device_del_rules(void **state)
{
    struct fixture *f = *state;
    struct machine *m = f->m;
    struct plug_error e;
    assert_true(add(m, "qemu64-x86_64-cpu,socket-id=0,core-id=2,thread-id=0,id=c2", &e));
    assert_false(machine_device_del(m, "nosuch", &e));
    assert_int_equal(e.cls, PLUG_DEVICE_NOT_FOUND);
    assert_string_equal(e.desc, "Device 'nosuch' not found");
    assert_false(machine_device_del(m, "/machine/unattached/device[0]", &e));
    assert_string_equal(e.desc, "Boot CPU is unpluggable");
    assert_false(machine_device_del(m, "c2", &e)); /* the block is still in legacy mode */
    assert_string_equal(e.desc, "acpi: device unplug request for not supported device type: qemu64-x86_64-cpu");
    mem_write(m->as_io, HP, 0, 4); /* switch to modern mode */
    m->chipset.fw_cfg.smi_negotiated = 3;
    assert_false(machine_device_del(m, "c2", &e));
    assert_string_equal(e.desc, "cpu hot-unplug with SMI wasn't enabled by firmware");
    assert_false(m->chipset.hotplug.slot[2].remove);
    m->chipset.fw_cfg.smi_negotiated = 7;
    assert_true(machine_device_del(m, "/machine/peripheral/c2", &e));
    assert_true(m->chipset.hotplug.slot[2].remove);
    assert_non_null(m->cpus[2]); /* stays until ejected */
}

static void test_eject_frees_and_the_slot_can_be_replugged(void **state)
{
    struct fixture *f = *state;
    struct machine *m = f->m;
    struct plug_error e;
    mem_write(m->as_io, HP, 0, 4);
    assert_true(add(m, "qemu64-x86_64-cpu,socket-id=0,core-id=2,thread-id=0,id=c2", &e));
    struct cpu *c = m->cpus[2];
    cpu_signal_smi(c);
    mem_write(m->as_io, HP, 2, 4);        /* select slot 2 */
    mem_write(m->as_io, HP + 4, 0x08, 1); /* eject */
    assert_null(m->cpus[2]);
    assert_null(m->chipset.apic_bus.cpus[2]);
    assert_int_equal(m->n_doomed, 1); /* freed when no CPU runs */
    assert_int_equal(c->state, CPU_SHUTDOWN);
    assert_false(c->smi_pending);
    assert_int_equal(mem_read(m->as_io, HP + 4, 1) & CPUHP_STS_ENABLED, 0);
    assert_int_equal(nb_cpus(m), 1);
    assert_int_equal(rtc_cmos_get(&m->chipset.rtc, 0x5F), 0);
    assert_int_equal(f->n_events, 2);
    assert_int_equal(f->events[0].kind, MACHINE_EVENT_DEVICE_DELETED);
    assert_string_equal(f->paths[0], "/machine/peripheral/c2/lapic");
    assert_string_equal(f->devices[1], "c2");
    assert_string_equal(f->paths[1], "/machine/peripheral/c2");
    machine_free_doomed(m);
    assert_int_equal(m->n_doomed, 0);
    /* the id is free again, and so is the slot */
    assert_true(add(m, "qemu64-x86_64-cpu,socket-id=0,core-id=2,thread-id=0,id=c2", &e));
    assert_non_null(m->cpus[2]);
    assert_int_equal(m->cpus[2]->smbase, 0x30000);
    assert_int_equal(nb_cpus(m), 2);
    /* eject of slot 0 and of an empty slot are ignored */
    mem_write(m->as_io, HP, 0, 4);
    mem_write(m->as_io, HP + 4, 0x08, 1);
    mem_write(m->as_io, HP, 3, 4);
    mem_write(m->as_io, HP + 4, 0x08, 1);
    assert_non_null(m->cpus[0]);
    assert_int_equal(m->n_present, 2);
}

static void test_ost_event_carries_device_and_slot(void **state)
{
    struct fixture *f = *state;
    struct machine *m = f->m;
    struct plug_error e;
    mem_write(m->as_io, HP, 0, 4);
    assert_true(add(m, "qemu64-x86_64-cpu,socket-id=0,core-id=3,thread-id=0,id=c3", &e));
    mem_write(m->as_io, HP, 3, 4);
    mem_write(m->as_io, HP + 5, CPUHP_CMD_OST_EVENT, 1);
    mem_write(m->as_io, HP + 8, 0x103, 4);
    mem_write(m->as_io, HP + 5, CPUHP_CMD_OST_STATUS, 1);
    mem_write(m->as_io, HP + 8, 0, 4);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].kind, MACHINE_EVENT_ACPI_DEVICE_OST);
    assert_string_equal(f->devices[0], "c3");
    assert_int_equal(f->events[0].slot, 3);
    assert_int_equal(f->events[0].source, 0x103);
    assert_int_equal(f->events[0].status, 0);
}

static void test_stop_cont_and_reset_events(void **state)
{
    struct fixture *f = *state;
    struct machine *m = f->m;
    machine_stop(m);
    machine_stop(m); /* no state change: no second event */
    assert_int_equal(m->run_state, MACHINE_PAUSED);
    machine_cont(m);
    machine_request_host_reset(m);
    assert_int_equal(f->n_events, 3);
    assert_int_equal(f->events[0].kind, MACHINE_EVENT_STOP);
    assert_int_equal(f->events[1].kind, MACHINE_EVENT_RESUME);
    assert_int_equal(f->events[2].kind, MACHINE_EVENT_RESET);
    assert_false(f->events[2].guest);
}

static void test_cold_plugged_cpu_gets_no_insert_event(void **state)
{
    struct fixture *f = *state;
    struct machine_config cfg;
    machine_config_default(&cfg);
    cfg.bios_path = f->bios;
    cfg.cpus = 1;
    cfg.max_cpus = 4;
    cfg.sockets = 1;
    cfg.cores = 4;
    cfg.threads = 1;
    cfg.cold_devices[0] = (struct cold_device_config){ .id = NULL }; /* e.g. isa-debugcon */
    cfg.cold_devices[1] = (struct cold_device_config){
        .is_cpu = true, .opts = "qemu64-x86_64-cpu,socket-id=0,core-id=1,thread-id=0" };
    cfg.n_cold_devices = 2;
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    assert_non_null(m->cpus[1]);
    assert_false(m->chipset.hotplug.slot[1].insert);
    assert_string_equal(m->slot[1].qom_path, "/machine/peripheral-anon/device[1]");
    assert_int_equal(nb_cpus(m), 2);
    machine_free(m);
    cfg.cold_devices[1].opts = "qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0";
    assert_null(machine_create(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "CPU[0] with APIC ID 0 exists"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_device_add_checks_in_qemus_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot_add_raises_insert_gpe_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_del_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eject_frees_and_the_slot_can_be_replugged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ost_event_carries_device_and_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_cont_and_reset_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cold_plugged_cpu_gets_no_insert_event, setup, teardown),
    };
    return cmocka_run_group_tests_name("cpu_plug", tests, NULL, NULL);
}
