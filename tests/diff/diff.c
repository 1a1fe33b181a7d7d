/*
 * diff.c - differential test of the interpreter against the host CPU
 * (../shared/spec/cpu.md §6). For every form in forms.c it generates cases
 * from a seeded PRNG, runs each natively (host.c) and on a bare smmvm CPU
 * (guest.c), and compares all GPRs, the scratch memory, the exception
 * vector and RFLAGS (CF PF AF ZF SF OF DF) with the form's undefined flags
 * masked. One line per failing form; the last line is "N passed, N failed".
 *
 *   diff [-seed N] [-cases N] [-form SUBSTRING] [--report-undefined] [-v] [-list] [-show N]
 *        [-j N]
 *
 * -v prints every failing case, -list the form names, -show N the bytes of
 * the first N cases of each form (to check the encoder with a disassembler).
 *
 * The seed also comes from SMMVM_DIFF_SEED. Each form draws from its own
 * stream (seed mixed with the form's name), so `-seed S -form NAME`
 * reproduces a failure whatever else the table holds.
 */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid, open_memstream */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"

#define MAX_FORMS     1024
#define DEFAULT_CASES 10000
#define DEFAULT_SEED  20261201
#define MAX_JOBS      16

static const char *const reg_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

struct options {
    uint64_t seed;
    unsigned cases;
    const char *filter;
    bool report_undefined;
    bool verbose;
    unsigned jobs; /* worker processes, each running every jobs-th form */
    bool list;     /* print the form names and stop */
    unsigned show; /* print the bytes of the first N cases of each form */
};

/* What --report-undefined collects for one form. */
struct undef_report {
    unsigned flag_cases[12]; /* by RFLAGS bit number */
    unsigned reg_cases;
    unsigned cases;
    bool have_sample;
    struct diff_case sample;
    struct diff_result sample_host, sample_guest;
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001B3ull;
    return h;
}

static void usage(void)
{
    fprintf(stderr, "usage: diff [-seed N] [-cases N] [-form SUBSTRING] [--report-undefined] [-v]\n"
                    "            [-list] [-show N] [-j N]\n");
    exit(1);
}

static uint64_t parse_number(const char *opt, const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end) {
        fprintf(stderr, "diff: %s: '%s' is not a number\n", opt, s);
        exit(1);
    }
    return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seed = DEFAULT_SEED, .cases = DEFAULT_CASES, .jobs = 2};
    const char *env = getenv("SMMVM_DIFF_SEED");
    if (env && *env)
        o->seed = parse_number("SMMVM_DIFF_SEED", env);
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "-seed") && k + 1 < argc)
            o->seed = parse_number("-seed", argv[++k]);
        else if (!strcmp(a, "-cases") && k + 1 < argc)
            o->cases = (unsigned)parse_number("-cases", argv[++k]);
        else if (!strcmp(a, "-form") && k + 1 < argc)
            o->filter = argv[++k];
        else if (!strcmp(a, "--report-undefined"))
            o->report_undefined = true;
        else if (!strcmp(a, "-v"))
            o->verbose = true;
        else if (!strcmp(a, "-j") && k + 1 < argc)
            o->jobs = (unsigned)parse_number("-j", argv[++k]);
        else if (!strcmp(a, "-list"))
            o->list = true;
        else if (!strcmp(a, "-show") && k + 1 < argc)
            o->show = (unsigned)parse_number("-show", argv[++k]);
        else
            usage();
    }
    if (o->jobs < 1 || o->jobs > MAX_JOBS) {
        fprintf(stderr, "diff: -j: %u workers is not in 1..%u\n", o->jobs, MAX_JOBS);
        exit(1);
    }
}

static const char *flag_string(uint64_t f, char *buf)
{
    static const struct {
        uint32_t bit;
        char c;
    } names[7] = {{RFL_OF, 'O'}, {RFL_DF, 'D'}, {RFL_SF, 'S'}, {RFL_ZF, 'Z'},
                  {RFL_AF, 'A'}, {RFL_PF, 'P'}, {RFL_CF, 'C'}};
    for (unsigned k = 0; k < 7; k++)
        buf[k] = (f & names[k].bit) ? names[k].c : '-';
    buf[7] = 0;
    return buf;
}

static void print_bytes(FILE *out, const struct diff_case *k)
{
    for (unsigned b = 0; b < k->len; b++)
        fprintf(out, "%s%02x", b ? " " : "", k->code[b]);
}

static void print_result(FILE *out, const char *who, const struct diff_result *r, uint16_t regs)
{
    char fb[8];
    fprintf(out, " | %s:", who);
    if (r->vector >= 0)
        fprintf(out, " #%d", r->vector);
    else if (r->vector == -2)
        fprintf(out, " lost-control rip=%#" PRIx64, r->rip);
    for (unsigned g = 0; g < 16; g++)
        if ((regs >> g) & 1)
            fprintf(out, " %s=%016" PRIx64, reg_names[g], r->gpr[g]);
    fprintf(out, " fl=%s", flag_string(r->rflags, fb));
}

/* Applies the case's memory patches to both scratch areas. */
static void apply_patches(const struct diff_case *k, uint64_t win, uint8_t *host_win,
                          uint8_t *guest_win)
{
    for (unsigned p = 0; p < k->n_patch; p++) {
        uint64_t off = k->patch[p].addr - win;
        if (off < WIN_SCRATCH || off + sizeof(k->patch[p].bytes) > WIN_SCRATCH + SCRATCH_SIZE) {
            fprintf(stderr, "diff: generator placed memory outside the scratch area\n");
            exit(1);
        }
        memcpy(host_win + off, k->patch[p].bytes, sizeof(k->patch[p].bytes));
        memcpy(guest_win + off, k->patch[p].bytes, sizeof(k->patch[p].bytes));
    }
}

/* Compatibility mode leaves the upper halves of RAX..RDI undefined. */
static bool reg_differs(const struct diff_case *k, const struct diff_result *h,
                        const struct diff_result *g, unsigned reg)
{
    uint64_t m = k->compat && reg < 8 ? 0xFFFFFFFFull : ~0ull;
    return ((h->gpr[reg] ^ g->gpr[reg]) & m) && !((k->undef_regs >> reg) & 1);
}

static long first_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a[k] != b[k])
            return (long)k;
    return -1;
}

/* The first failing case of a form, kept until the form's line is printed. */
struct failure {
    unsigned n; /* case number */
    struct diff_case k;
    struct diff_result h, g;
    uint32_t undef;
    long mem_off;
    uint8_t mem_host, mem_guest;
};

static void report_failure(FILE *out, const struct options *o, const struct form *f, unsigned fails,
                           const struct failure *x)
{
    const struct diff_case *k = &x->k;
    const struct diff_result *h = &x->h, *g = &x->g;
    char fb[8];
    uint16_t diff_regs = 0;
    for (unsigned r = 0; r < 16; r++)
        if (reg_differs(k, h, g, r))
            diff_regs |= (uint16_t)(1u << r);
    fprintf(out, "FAIL %s (%u of %u cases): seed=%" PRIu64 " case=%u bytes=", f->name, fails,
            o->cases, o->seed, x->n);
    print_bytes(out, k);
    if (k->rip % 0x1000 != WIN_INSN % 0x1000)
        fprintf(out, " at page end-%u", (unsigned)(0x1000 - k->rip % 0x1000));
    fprintf(out, " | in:");
    for (unsigned r = 0; r < 16; r++)
        if ((k->used >> r) & 1)
            fprintf(out, " %s=%016" PRIx64, reg_names[r], k->gpr[r]);
    fprintf(out, " fl=%s", flag_string(k->rflags, fb));
    if (k->n_patch) {
        fprintf(out, " mem@+%#" PRIx64 "=",
                (uint64_t)((k->patch[0].addr + 8) % WIN_SIZE - WIN_SCRATCH));
        for (unsigned b = 0; b < 8; b++)
            fprintf(out, "%02x", k->patch[0].bytes[8 + b]);
    }
    print_result(out, "host", h, (uint16_t)(k->used | diff_regs));
    print_result(out, "smmvm", g, (uint16_t)(k->used | diff_regs));
    fprintf(out, " | differs:");
    if (h->vector != g->vector)
        fprintf(out, " vector");
    if (h->rip != g->rip)
        fprintf(out, " rip(host %#" PRIx64 " smmvm %#" PRIx64 ")", h->rip, g->rip);
    for (unsigned r = 0; r < 16; r++)
        if ((diff_regs >> r) & 1)
            fprintf(out, " %s", reg_names[r]);
    uint64_t fd = (h->rflags ^ g->rflags) & RFL_COMPARED & ~(uint64_t)x->undef;
    if (fd)
        fprintf(out, " flags(%s)", flag_string(fd, fb));
    if (x->mem_off >= 0)
        fprintf(out, " mem@+%#lx(host %02x smmvm %02x)", x->mem_off, x->mem_host, x->mem_guest);
    fprintf(out, "\n");
}

static void note_undefined(struct undef_report *u, const struct diff_case *k,
                           const struct diff_result *h, const struct diff_result *g, uint32_t undef)
{
    uint64_t fd = (h->rflags ^ g->rflags) & undef;
    bool regs = false;
    for (unsigned r = 0; r < 16; r++)
        if (((k->undef_regs >> r) & 1) && h->gpr[r] != g->gpr[r])
            regs = true;
    if (!fd && !regs)
        return;
    u->cases++;
    for (unsigned b = 0; b < 12; b++)
        if ((fd >> b) & 1)
            u->flag_cases[b]++;
    if (regs)
        u->reg_cases++;
    if (!u->have_sample) {
        u->have_sample = true;
        u->sample = *k;
        u->sample_host = *h;
        u->sample_guest = *g;
    }
}

static void print_undefined(FILE *out, const struct form *f, const struct undef_report *u,
                            unsigned cases)
{
    static const char *const bit_names[12] = {"CF", "",   "PF", "", "AF", "",
                                              "ZF", "SF", "",   "", "",   "OF"};
    if (!u->cases)
        return;
    fprintf(out, "undefined %s: host differs in %u/%u cases:", f->name, u->cases, cases);
    for (unsigned b = 0; b < 12; b++)
        if (u->flag_cases[b])
            fprintf(out, " %s %u", bit_names[b], u->flag_cases[b]);
    if (u->reg_cases)
        fprintf(out, " dest-reg %u", u->reg_cases);
    fprintf(out, " | e.g. bytes=");
    print_bytes(out, &u->sample);
    char fb[8];
    fprintf(out, " count=%u in fl=%s", u->sample.count, flag_string(u->sample.rflags, fb));
    fprintf(out, " host fl=%s", flag_string(u->sample_host.rflags, fb));
    fprintf(out, " smmvm fl=%s\n", flag_string(u->sample_guest.rflags, fb));
}

/* What every form's run needs. */
struct runner {
    const struct options *o;
    struct gen_env env;
    struct guest *g;
    uint8_t *host_win, *guest_win;
    const struct form *pool[MAX_FORMS]; /* chainable forms, for GEN_SEQ */
    unsigned n_pool;
};

/* Runs every case of one form, printing to out; true if all passed. The
 * scratch area starts from the form's own seed, so a form's result does not
 * depend on which forms ran before it (or in which worker). */
static bool run_form(struct runner *ru, const struct form *f, FILE *out)
{
    const struct options *o = ru->o;
    uint8_t *host_scratch = ru->host_win + WIN_SCRATCH;
    uint8_t *guest_scratch = ru->guest_win + WIN_SCRATCH;
    struct rng r;
    rng_seed(&r, o->seed ^ name_hash(f->name));
    for (uint64_t b = 0; b < SCRATCH_SIZE; b += 8) {
        uint64_t v = rng_next(&r);
        memcpy(host_scratch + b, &v, 8);
    }
    memcpy(guest_scratch, host_scratch, SCRATCH_SIZE);

    struct undef_report ur;
    memset(&ur, 0, sizeof(ur));
    unsigned fails = 0;
    struct failure first;
    for (unsigned n = 0; n < o->cases; n++) {
        struct diff_case k;
        struct diff_result h, gr;
        if (f->gen == GEN_SEQ)
            gen_sequence(f, ru->pool, ru->n_pool, &r, &ru->env, &k);
        else
            gen_case(f, &r, &ru->env, &k);
        if (n < o->show) {
            fprintf(out, "show %s: ", f->name);
            print_bytes(out, &k);
            fprintf(out, "\n");
        }
        apply_patches(&k, ru->env.win, ru->host_win, ru->guest_win);
        host_run(&k, &h);
        guest_run(ru->g, &k, &gr);

        uint32_t undef = diff_undefined_flags(f, &k);
        if (h.vector == 0 && gr.vector == 0)
            undef = RFL_ARITH; /* #DE: nothing was computed */
        bool same = h.vector == gr.vector && h.rip == gr.rip;
        for (unsigned reg = 0; reg < 16; reg++)
            if (reg_differs(&k, &h, &gr, reg))
                same = false;
        if ((h.rflags ^ gr.rflags) & RFL_COMPARED & ~(uint64_t)undef)
            same = false;
        long mem_off = -1;
        if (memcmp(host_scratch, guest_scratch, SCRATCH_SIZE) != 0) {
            mem_off = first_difference(host_scratch, guest_scratch, SCRATCH_SIZE);
            same = false;
        }
        if (!same) {
            struct failure x = {n, k, h, gr, undef, mem_off, 0, 0};
            if (mem_off >= 0) {
                x.mem_host = host_scratch[mem_off];
                x.mem_guest = guest_scratch[mem_off];
            }
            if (fails == 0)
                first = x;
            fails++;
            if (o->verbose)
                report_failure(out, o, f, 1, &x);
            memcpy(guest_scratch, host_scratch, SCRATCH_SIZE);
        } else if (o->report_undefined) {
            note_undefined(&ur, &k, &h, &gr, undef);
        }
    }
    if (fails)
        report_failure(out, o, f, fails, &first);
    if (o->report_undefined)
        print_undefined(out, f, &ur, o->cases);
    return fails == 0;
}

/* A worker runs forms index % jobs == w and appends one record per form to
 * its file: "<index> <passed> <bytes>\n" and the form's output. */
static void run_worker(struct runner *ru, const struct form *forms, const bool *selected,
                       unsigned n_forms, unsigned w, unsigned jobs, FILE *records)
{
    for (unsigned fi = w; fi < n_forms; fi += jobs) {
        if (!selected[fi])
            continue;
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m) {
            perror("diff: open_memstream");
            exit(2);
        }
        bool ok = run_form(ru, &forms[fi], m);
        fclose(m);
        fprintf(records, "%u %d %zu\n", fi, ok ? 1 : 0, len);
        fwrite(text, 1, len, records);
        free(text);
    }
    fflush(records);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);

    static struct form forms[MAX_FORMS];
    unsigned n_forms = forms_build(forms, MAX_FORMS);
    if (!n_forms)
        return 1;
    if (o.list) {
        for (unsigned fi = 0; fi < n_forms; fi++)
            printf("%s\n", forms[fi].name);
        return 0;
    }
    static bool selected[MAX_FORMS];
    for (unsigned fi = 0; fi < n_forms; fi++)
        selected[fi] = !o.filter || strstr(forms[fi].name, o.filter);

    static struct runner ru;
    ru.o = &o;
    for (unsigned fi = 0; fi < n_forms; fi++)
        if (form_chainable(&forms[fi]))
            ru.pool[ru.n_pool++] = &forms[fi];
    uint64_t win = host_init();
    ru.env = (struct gen_env){win, {host_seg_base(0), host_seg_base(1)}, false};
    ru.g = guest_create(win, ru.env.seg_base[0], ru.env.seg_base[1]);
    ru.host_win = host_window();
    ru.guest_win = guest_window(ru.g);

    printf("diff: seed %" PRIu64 " (-seed N or SMMVM_DIFF_SEED to change), %u cases per form, "
           "%u workers\n",
           o.seed, o.cases, o.jobs);
    fflush(stdout);

    /* Workers are forked after the window and the guest exist: each gets its
     * own copy of both, and the parent prints their records in form order. */
    FILE *records[MAX_JOBS];
    pid_t pids[MAX_JOBS];
    for (unsigned w = 0; w < o.jobs; w++) {
        records[w] = tmpfile();
        if (!records[w]) {
            perror("diff: tmpfile");
            return 2;
        }
        pids[w] = fork();
        if (pids[w] < 0) {
            perror("diff: fork");
            return 2;
        }
        if (pids[w] == 0) {
            run_worker(&ru, forms, selected, n_forms, w, o.jobs, records[w]);
            _exit(0);
        }
    }
    bool workers_ok = true;
    for (unsigned w = 0; w < o.jobs; w++) {
        int status;
        if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "diff: worker %u died (status %#x)\n", w, (unsigned)status);
            workers_ok = false;
        }
    }

    static char *text[MAX_FORMS];
    static size_t text_len[MAX_FORMS];
    static int verdict[MAX_FORMS]; /* 0 not run, 1 passed, 2 failed */
    for (unsigned w = 0; w < o.jobs; w++) {
        rewind(records[w]);
        unsigned fi;
        int ok;
        size_t len;
        while (fscanf(records[w], "%u %d %zu", &fi, &ok, &len) == 3 && fgetc(records[w]) == '\n' &&
               fi < n_forms) {
            text[fi] = malloc(len + 1);
            if (!text[fi] || fread(text[fi], 1, len, records[w]) != len) {
                fprintf(stderr, "diff: worker %u left a short record\n", w);
                workers_ok = false;
                break;
            }
            text_len[fi] = len;
            verdict[fi] = ok ? 1 : 2;
        }
        fclose(records[w]);
    }
    unsigned passed = 0, failed = 0;
    for (unsigned fi = 0; fi < n_forms; fi++) {
        if (!selected[fi])
            continue;
        if (verdict[fi] == 0) {
            printf("FAIL %s: not run (its worker died)\n", forms[fi].name);
            failed++;
            continue;
        }
        fwrite(text[fi], 1, text_len[fi], stdout);
        free(text[fi]);
        if (verdict[fi] == 1)
            passed++;
        else
            failed++;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed || !workers_ok ? 1 : 0;
}
