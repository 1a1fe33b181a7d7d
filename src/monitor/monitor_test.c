/*
 * monitor_test.c - the HMP commands against a real machine (a 64 KiB BIOS that halts),
 * the unix-socket channel, the scheduler serving the monitor while every CPU is halted,
 * the start-up limits of platform.md §1.5, and two machines in one process.
 */
#define _DEFAULT_SOURCE /* mkstemp, struct sockaddr_un */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hw/pci.h"
#include "machine/machine.h"
#include "monitor/channel.h"
#include "monitor/monitor.h"

struct fixture {
    char bios[64];
    struct machine_config cfg;
    struct machine *m;
    char *text;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->bios, sizeof(f->bios), "/tmp/smmvm-monitor-test-XXXXXX");
    int fd = mkstemp(f->bios);
    static uint8_t image[65536];
    memset(image, 0xF4, sizeof(image)); /* HLT everywhere; reset vector: cli; hlt; jmp $-1 */
    image[0xFFF0] = 0xFA;
    image[0xFFF1] = 0xF4;
    image[0xFFF2] = 0xEB;
    image[0xFFF3] = 0xFD;
    assert_int_equal(write(fd, image, sizeof(image)), (ssize_t)sizeof(image));
    close(fd);
    machine_config_default(&f->cfg);
    f->cfg.bios_path = f->bios;
    char err[256];
    f->m = machine_create(&f->cfg, err, sizeof(err));
    assert_non_null(f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    machine_free(f->m);
    unlink(f->bios);
    free(f->text);
    free(f);
    return 0;
}

static const char *run(struct fixture *f, const char *line)
{
    size_t size;
    free(f->text);
    FILE *out = open_memstream(&f->text, &size);
    monitor_execute(f->m, line, out);
    fclose(out);
    return f->text;
}

static void test_info_mtree_names_views_and_regions(void **state)
{
    struct fixture *f = *state;
    const char *t = run(f, "info mtree");
    assert_non_null(strstr(t, "address-space: cpu-memory-0\naddress-space: memory\n"));
    assert_non_null(strstr(t, "address-space: cpu-smm-0\n"));
    assert_non_null(strstr(t, "address-space: I/O\n"));
    assert_non_null(strstr(t, "memory-region: smram\n"));
    assert_non_null(strstr(t, "(prio 1, i/o): smbase-blackhole [disabled]\n"));
    assert_non_null(
        strstr(t, "alias smbase-window @pc.ram 0000000000030000-000000000004ffff [disabled]\n"));
    t = run(f, "info mtree -f");
    assert_non_null(strstr(
        t, "FlatView #0\n AS \"cpu-memory-0\", root: system\n AS \"memory\", root: system\n"));
}

static void test_info_mtree_after_lock_shows_black_hole_and_window(void **state)
{
    struct fixture *f = *state;
    struct pci_host *h = &f->m->pci_host;
    pci_config_write(h, 0, 0, 0x9E, 0x3F, 1);
    pci_config_write(h, 0, 0, 0x9D, 0x1A, 1);
    pci_config_write(h, 0, 0, 0x9C, 0xFF, 1);
    pci_config_write(h, 0, 0, 0x9C, 0x02, 1);
    const char *t = run(f, "info mtree -f");
    const char *normal = strstr(t, "FlatView #0");
    const char *smm = strstr(t, "AS \"cpu-smm-0\"");
    const char *hole =
        strstr(t, "  0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole\n");
    assert_non_null(normal);
    assert_non_null(smm);
    assert_non_null(hole);
    assert_true(hole < smm); /* in the normal view only */
    assert_null(strstr(smm, "smbase-blackhole"));
    t = run(f, "info mtree");
    assert_non_null(strstr(
        t, "(prio 0, ram): alias smbase-window @pc.ram 0000000000030000-000000000004ffff\n"));
    t = run(f, "info smram");
    assert_non_null(strstr(t, "0x9c: 0x02 C (locked"));
    assert_non_null(strstr(t, "TSEG: 0x07000000-0x07ffffff (16 MiB)"));
    /* Locked window: the default SMBASE's entry and save area are SMRAM now. */
    assert_non_null(
        strstr(t, "cpu0: SMBASE 0x00030000, not in SMM, entry and save area in SMRAM\n"));
    assert_non_null(strstr(t, "SMI features: host 0x7, negotiated 0x0 (not negotiated)\n"));
}

static void test_info_cpus_and_registers_show_every_cpu(void **state)
{
    struct fixture *f = *state;
    const char *t = run(f, "info cpus");
    assert_non_null(strstr(t, "* CPU #0: apic_id=0 state=running smm=no smbase=0x00030000 "
                              "rip=0x000000000000fff0\n"));
    t = run(f, "info registers");
    assert_non_null(strstr(t, "CPU#0\n"));
    assert_non_null(strstr(t, "RIP=000000000000fff0"));
    assert_string_equal(run(f, "info cpus -a"), "info cpus: unexpected argument '-a'\n");
}

static void test_info_pci_lists_both_functions(void **state)
{
    struct fixture *f = *state;
    const char *t = run(f, "info pci");
    assert_string_equal(t, "  Bus  0, device   0, function 0:\n"
                           "    Host bridge: PCI device 8086:29c0\n"
                           "      PCI subsystem 1af4:1100\n"
                           "      id \"\"\n"
                           "  Bus  0, device  31, function 0:\n"
                           "    ISA bridge: PCI device 8086:2918\n"
                           "      PCI subsystem 1af4:1100\n"
                           "      id \"\"\n");
}

static void test_bad_input_gets_one_error_line(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(run(f, "frobnicate"), "unknown command: 'frobnicate' (try 'help')\n");
    assert_string_equal(run(f, "info"), "info: missing item (mtree, pci, smram, cpus, registers, hotpluggable-cpus, status, clock)\n");
    assert_string_equal(run(f, "info registers-of-doom"),
                        "info: unknown item 'registers-of-doom' (mtree, pci, smram, cpus, registers, hotpluggable-cpus, status, clock)\n");
    assert_string_equal(run(f, "info mtree -x"),
                        "info mtree: invalid argument '-x' (only -f and -D are supported)\n");
    assert_string_equal(run(f, "quit now"), "quit: unexpected argument 'now'\n");
    assert_string_equal(run(f, "a b c d e f g h i j"), "error: too many arguments\n");
    assert_string_equal(run(f, "   "), "");
    assert_false(f->m->exit_requested);
    assert_non_null(strstr(run(f, "help"), "info mtree [-f]"));
}

static void test_system_reset_lifts_locks_keeps_pam(void **state)
{
    struct fixture *f = *state;
    struct pci_host *h = &f->m->pci_host;
    pci_config_write(h, 0, 0, 0x90, 0x33333333, 4);
    pci_config_write(h, 0, 0, 0x9D, 0x1A, 1);
    pci_config_write(h, 0, 0, 0x9C, 0xFF, 1);
    pci_config_write(h, 0, 0, 0x9C, 0x02, 1);
    run(f, "system_reset");
    assert_true(f->m->reset_requested);
    machine_run(f->m, 1000); /* the reset happens at the next round boundary */
    assert_false(f->m->reset_requested);
    assert_int_equal(pci_config_read(h, 0, 0, 0x9D, 1), 0x02);
    assert_int_equal(pci_config_read(h, 0, 0, 0x9C, 1), 0x00);
    assert_int_equal(pci_config_read(h, 0, 0, 0x90, 4), 0x33333333);
}

static void test_quit_stops_the_machine(void **state)
{
    struct fixture *f = *state;
    run(f, "quit");
    assert_true(f->m->exit_requested);
    assert_int_equal(machine_run(f->m, 0), 0);
}

struct poll_count {
    unsigned idle_calls;
    struct machine *m;
};

/* Counts polls of either kind: while halted CPUs skip ahead to device timers the
 * scheduler polls without blocking; with no timer left it waits (idle = true). */
static bool poll_then_quit(void *opaque, bool idle)
{
    struct poll_count *p = opaque;
    (void)idle;
    if (++p->idle_calls == 3)
        machine_request_exit(p->m, 0);
    return true;
}

static void test_halted_machine_keeps_serving_the_monitor(void **state)
{
    struct fixture *f = *state;
    struct poll_count p = {0, f->m};
    machine_set_poll(f->m, poll_then_quit, &p);
    machine_run(f->m, 0); /* the CPU halts at once; only the poll hook can end this */
    assert_int_equal(p.idle_calls, 3);
}

static bool poll_monitor(struct monitor *mon)
{
    struct channel_set set = { { monitor_channel(mon) }, 1 };
    return channel_set_poll(&set, true);
}

static void test_unix_socket_monitor(void **state)
{
    struct fixture *f = *state;
    char path[64], spec[96], err[256];
    snprintf(path, sizeof(path), "/tmp/smmvm-mon-%d.sock", (int)getpid());
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    struct monitor *mon = monitor_open(f->m, spec, err, sizeof(err));
    assert_non_null(mon);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, path, strlen(path) + 1);
    assert_int_equal(connect(c, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_true(poll_monitor(mon)); /* accept */
    assert_int_equal(write(c, "info pci\nbogus\n", 15), 15);
    assert_true(poll_monitor(mon));
    char buf[4096] = {0};
    size_t got = 0;
    while (got < sizeof(buf) - 1) {
        ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (strstr(buf, "unknown command: 'bogus'") && strstr(buf + got - 8, "(smmvm) "))
            break;
    }
    assert_non_null(strstr(buf, "smmvm monitor - type 'help' for more information\n(smmvm) "));
    assert_non_null(strstr(buf, "ISA bridge: PCI device 8086:2918"));
    assert_non_null(strstr(buf, "unknown command: 'bogus' (try 'help')\n(smmvm) "));
    close(c);
    assert_true(poll_monitor(mon)); /* EOF: the server keeps listening */
    monitor_close(mon);
    unlink(path);
    assert_null(monitor_open(f->m, "tcp:1234", err, sizeof(err)));
    assert_non_null(strstr(err, "not supported"));
    assert_null(monitor_open(f->m, "unix:/tmp/x.sock,server=on,wait=on", err, sizeof(err)));
}

static void test_start_up_limits(void **state)
{
    struct fixture *f = *state;
    char err[256];
    struct machine_config cfg = f->cfg;
    cfg.mch.ext_tseg_mbytes = 4096;
    assert_null(machine_create(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "invalid extended-tseg-mbytes value"));
    cfg.mch.ext_tseg_mbytes = 127; /* >= 128 MiB - 1 MiB */
    assert_null(machine_create(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "does not fit below TOLUD"));
    cfg.mch.ext_tseg_mbytes = 126;
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    machine_free(m);
    cfg.ram_bytes = 16u << 20;
    cfg.mch.ext_tseg_mbytes = 0;
    assert_null(machine_create(&cfg, err, sizeof(err)));
}

static void test_two_machines_do_not_interfere(void **state)
{
    struct fixture *f = *state;
    char err[256];
    struct machine *other = machine_create(&f->cfg, err, sizeof(err));
    assert_non_null(other);
    pci_config_write(&f->m->pci_host, 0, 0, 0x9C, 0xFF, 1);
    pci_config_write(&f->m->pci_host, 0, 0, 0x9C, 0x02, 1);
    assert_int_equal(pci_config_read(&other->pci_host, 0, 0, 0x9C, 1), 0x00);
    assert_int_equal(mem_read(other->as_memory, 0x30000, 1), 0x00);
    assert_int_equal(mem_read(f->m->as_memory, 0x30000, 1), 0xFF);
    machine_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_info_mtree_names_views_and_regions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_mtree_after_lock_shows_black_hole_and_window,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_cpus_and_registers_show_every_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_pci_lists_both_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_gets_one_error_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_reset_lifts_locks_keeps_pam, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quit_stops_the_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_halted_machine_keeps_serving_the_monitor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unix_socket_monitor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_up_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_machines_do_not_interfere, setup, teardown),
    };
    return cmocka_run_group_tests_name("monitor", tests, NULL, NULL);
}
