#!/usr/bin/env python3
"""alu_model.py - recomputes the ALU lines of expected/alu_flags.txt,
expected/shift_muldiv.txt and expected/alu16.txt from the SDM's pseudocode (Vol. 2, per instruction), so the
expected files are checked against the architecture and not only against QEMU.

    tests/rom/tools/alu_model.py tests/rom/expected/alu_flags.txt ...

Handles lines "op.size args fIN: r=R f=F" (see the header of alu_flags.S). Prints every
line where the model disagrees, and a summary; exits 1 on a disagreement. Lines it has no
model for are counted as skipped.
"""
import re
import sys

CF, PF, AF, ZF, SF, TF, IF, DF, OF = 1, 4, 0x10, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800
ALU = CF | PF | AF | ZF | SF | OF
WIDTH = {"b": 8, "w": 16, "l": 32, "q": 64}


def parity(v):
    return PF if bin(v & 0xFF).count("1") % 2 == 0 else 0


def szp(r, w):
    m = (1 << w) - 1
    r &= m
    return (ZF if r == 0 else 0) | (SF if r >> (w - 1) & 1 else 0) | parity(r)


def addsub(op, a, b, fin, w):
    m = (1 << w) - 1
    c = fin & CF if op in ("adc", "sbb") else 0
    if op in ("add", "adc"):
        full = a + b + c
        r = full & m
        cf = CF if full >> w else 0
        of = OF if ((a ^ r) & (b ^ r)) >> (w - 1) & 1 else 0
    else:
        full = a - b - c
        r = full & m
        cf = CF if full < 0 else 0
        of = OF if ((a ^ b) & (a ^ r)) >> (w - 1) & 1 else 0
    af = AF if (a ^ b ^ r) & 0x10 else 0
    return r, cf | of | af | szp(r, w)


def model(op, w, args, fin):
    """returns (result, flags, mask) or None."""
    m = (1 << w) - 1
    keep = fin & ALU
    if op in ("add", "adc", "sub", "sbb", "cmp"):
        a, b = args
        r, f = addsub("sub" if op == "cmp" else op, a, b, fin, w)
        return (a if op == "cmp" else r), f, ALU
    if op in ("and", "or", "xor", "test"):
        a, b = args
        r = {"and": a & b, "test": a & b, "or": a | b, "xor": a ^ b}[op] & m
        return (a if op == "test" else r), szp(r, w), CF | PF | ZF | SF | OF
    if op in ("inc", "dec"):
        (a,) = args
        r, f = addsub("add" if op == "inc" else "sub", a, 1, 0, w)
        return r, (f & ~CF) | (fin & CF), ALU
    if op == "neg":
        (a,) = args
        r, f = addsub("sub", 0, a, 0, w)
        return r, f, ALU
    if op == "not":
        (a,) = args
        return ~a & m, keep, ALU
    if op in ("shl", "shr", "sar", "rol", "ror", "rcl", "rcr"):
        a, cnt = args
        mc = cnt & (63 if w == 64 else 31)
        if mc == 0:
            return a, keep, ALU
        if op in ("shl", "shr", "sar"):
            r, cf = a, 0
            for _ in range(mc):
                if op == "shl":
                    cf = r >> (w - 1) & 1
                    r = (r << 1) & m
                else:
                    cf = r & 1
                    sign = r >> (w - 1) & 1 if op == "sar" else 0
                    r = (r >> 1) | (sign << (w - 1))
            f = szp(r, w) | (CF if cf else 0)
            if mc == 1:
                if op == "shl":
                    f |= OF if ((r >> (w - 1)) & 1) ^ cf else 0
                elif op == "shr":
                    f |= OF if a >> (w - 1) & 1 else 0
                mask = ALU & ~AF
            elif mc < w:
                mask = CF | PF | ZF | SF
            else:
                mask = (CF if op == "sar" else 0) | PF | ZF | SF
            return r, f, mask
        # rotates: only CF and OF change
        r, cf = a, fin & CF
        if op in ("rol", "ror"):
            t = mc % w
            for _ in range(t):
                if op == "rol":
                    r = ((r << 1) | (r >> (w - 1))) & m
                else:
                    r = (r >> 1) | ((r & 1) << (w - 1))
            if op == "rol":
                cf = r & 1
                of = (r >> (w - 1) & 1) ^ cf
            else:
                cf = r >> (w - 1) & 1
                of = (r >> (w - 1) & 1) ^ (r >> (w - 2) & 1)
        else:
            t = mc % (w + 1) if w < 32 else mc
            for _ in range(t):
                if op == "rcl":
                    nc = r >> (w - 1) & 1
                    r = ((r << 1) | cf) & m
                    cf = nc
                else:
                    nc = r & 1
                    r = (r >> 1) | (cf << (w - 1))
                    cf = nc
            if op == "rcl":
                of = (r >> (w - 1) & 1) ^ cf
            else:  # OF = MSB(DEST) XOR CF before the rotate (for count 1)
                of = (a >> (w - 1) & 1) ^ (fin & CF)
        f = (keep & ~(CF | OF)) | (CF if cf else 0) | (OF if of else 0)
        return r, f, ALU if mc == 1 else ALU & ~OF
    return None


def bcd(op, ax, fin):
    al, ah = ax & 0xFF, ax >> 8 & 0xFF
    cf, af = fin & CF, fin & AF
    if op == "daa":
        old_al, old_cf = al, cf
        cf = 0
        if (al & 0xF) > 9 or af:
            al = (al + 6) & 0xFF
            cf = old_cf or (old_al + 6 > 0xFF)
            af = 1
        else:
            af = 0
        if old_al > 0x99 or old_cf:
            al = (al + 0x60) & 0xFF
            cf = 1
        else:
            cf = 0
        return ah << 8 | al, (CF if cf else 0) | (AF if af else 0) | szp(al, 8), CF | AF | SF | ZF | PF
    if op == "das":
        old_al, old_cf = al, cf
        cf = 0
        if (al & 0xF) > 9 or af:
            cf = old_cf or al < 6
            al = (al - 6) & 0xFF
            af = 1
        else:
            af = 0
        if old_al > 0x99 or old_cf:
            al = (al - 0x60) & 0xFF
            cf = 1
        return ah << 8 | al, (CF if cf else 0) | (AF if af else 0) | szp(al, 8), CF | AF | SF | ZF | PF
    if op in ("aaa", "aas"):
        if (al & 0xF) > 9 or af:
            if op == "aaa":  # AX <- AX + 106H
                v = (ax + 0x106) & 0xFFFF
            else:  # AX <- AX - 6; AH <- AH - 1
                v = (ax - 6) & 0xFFFF
                v = ((((v >> 8) - 1) & 0xFF) << 8) | (v & 0xFF)
            return v & 0xFF0F, CF | AF, CF | AF
        return ax & 0xFF0F, 0, CF | AF
    if op == "aam":
        ah, al = al // 10, al % 10
        return ah << 8 | al, szp(al, 8), SF | ZF | PF
    if op == "aad":
        al = (al + ah * 10) & 0xFF
        return al, szp(al, 8), SF | ZF | PF
    return None


def extra(line):
    """the KV-style lines: BT*, BSF/BSR, SHLD/SHRD, MUL/IMUL, DIV/IDIV, SETcc.
    returns (expected text after ': ') or None."""
    mo = re.match(r"^(bt|bts|btr|btc)\.([lw]) (reg|imm) (\S+),(\S+): ", line)
    if mo:
        op, sz, form, a, bit = mo.groups()
        w = WIDTH[sz]
        a, bit = num(a), num(bit) % w
        fin = 0x8D5 if form == "imm" else 0
        cf = a >> bit & 1
        r = {"bt": a, "bts": a | 1 << bit, "btr": a & ~(1 << bit), "btc": a ^ 1 << bit}[op]
        return "r=%0*x f=%04x" % (w // 4, r, (CF if cf else 0) | (fin & ZF))
    mo = re.match(r"^(bt|bts|btr|btc)\.l mem (\S+)( dword(\S+))?: ", line)
    if mo:
        op, bit, _, which = mo.groups()
        bit = num(bit)
        mem = {-1: 0x80000000, 0: 8, 1: 8, 2: 0}
        idx, b = bit // 32, bit % 32
        cf = mem[idx] >> b & 1
        v = mem[idx]
        mem[idx] = {"bt": v, "bts": v | 1 << b, "btr": v & ~(1 << b), "btc": v ^ 1 << b}[op]
        if which is None:
            return "r=00000000 f=%04x" % (CF if cf else 0)
        return "%08x" % mem[num(which)]
    mo = re.match(r"^(bsf|bsr)\.([lwq]) (\S+): ", line)
    if mo:
        op, sz, v = mo.groups()
        v = num(v)
        r = (v & -v).bit_length() - 1 if op == "bsf" else v.bit_length() - 1
        return "r=%0*x f=0000" % (WIDTH[sz] // 4, r)
    mo = re.match(r"^(bsf|bsr)\.l 0 zf: ", line)
    if mo:
        return "0040"
    mo = re.match(r"^(shld|shrd)\.([lw]) (\S+),(\S+),(\S+): ", line)
    if mo:
        op, sz, a, b, cnt = mo.groups()
        w = WIDTH[sz]
        a, b, cnt = num(a), num(b), num(cnt)
        mc = cnt & 31
        fin = 0x8D5 if sz == "w" else 0
        if mc == 0:
            return "r=%0*x f=%04x" % (w // 4, a, fin & ALU)
        m = (1 << w) - 1
        if op == "shld":
            r = ((a << mc) | (b >> (w - mc))) & m
            cf = a >> (w - mc) & 1
        else:
            r = ((a >> mc) | (b << (w - mc))) & m
            cf = a >> (mc - 1) & 1
        f = szp(r, w) | (CF if cf else 0)
        if mc == 1:
            f |= OF if (r ^ a) >> (w - 1) & 1 else 0
            mask = ALU & ~AF
        else:
            mask = CF | PF | ZF | SF
        return "r=%0*x f=%04x" % (w // 4, r, f & mask)
    mo = re.match(r"^(i?mul)(2|3)?\.([bwl]) (\S+),(\S+)( \(dx:ax\))?( edx| eax)?: ", line)
    if mo:
        op, form, sz, a, b, _, part = mo.groups()
        w = WIDTH[sz]
        m = (1 << w) - 1
        a, b = num(a) & m, num(b) & m
        sa = a - (1 << w) if a >> (w - 1) else a
        sb = b - (1 << w) if b >> (w - 1) else b
        if form == "3" and b == (-3 & m) or form == "3":
            sb = num(line.split(",")[1].split(":")[0])
        p = a * b if op == "mul" else sa * sb
        full = p & ((1 << 2 * w) - 1)
        lo, hi = full & m, full >> w
        if op == "mul":
            ovf = hi != 0
        else:
            slo = lo - (1 << w) if lo >> (w - 1) else lo
            ovf = slo != p
        f = (CF | OF) if ovf else 0
        if form:
            return "r=%0*x f=%04x" % (w // 4, lo, f)
        if part == " edx":
            return "%08x" % hi
        if part == " eax":
            return "r=%08x f=%04x" % (lo, f)
        return "r=%0*x f=%04x" % (w // 2, full, f)
    mo = re.match(r"^(i?div)\.([bwl]) (\S+):(\S+)/(\S+) (ah:al|dx:ax|eax|edx): ", line)
    if mo:
        op, sz, hi, lo, d, part = mo.groups()
        w = WIDTH[sz]
        m = (1 << w) - 1
        n = num(hi) << w | num(lo)
        d = num(d)
        if op == "idiv":
            n = n - (1 << 2 * w) if n >> (2 * w - 1) else n
            d = d - (1 << w) if d >> (w - 1) else d
            q = abs(n) // abs(d) * (1 if (n < 0) == (d < 0) else -1)
            r = n - q * d
        else:
            q, r = divmod(n, d)
        q, r = q & m, r & m
        if part == "ah:al":
            return "%04x" % (r << 8 | q)
        if part == "dx:ax":
            return "%08x" % (r << 16 | q)
        return "%08x" % (q if part == "eax" else r)
    mo = re.match(r"^setcc/cmovcc flags=([0-9a-f]{4}): ", line)
    if mo:
        f = int(mo.group(1), 16)
        c, p, z, s_, o = (bool(f & x) for x in (CF, PF, ZF, SF, OF))
        conds = [o, not o, c, not c, z, not z, c or z, not (c or z), s_, not s_, p, not p,
                 s_ != o, s_ == o, z or s_ != o, not z and s_ == o]
        v = 0
        for t in conds:
            v = v << 1 | int(t)
        return "%08x" % (v << 16 | v)
    return None


LINE = re.compile(r"^(\w+)\.([bwlq]) (\S+) f(\S+): r=([0-9a-f]+) f=([0-9a-f]{4})$")
BCDL = re.compile(r"^(daa|das|aaa|aas|aam|aad) (\S+) f(\S+): r=([0-9a-f]+) f=([0-9a-f]{4})$")


def num(s):
    return int(s, 0)


def main():
    bad = ok = skipped = 0
    for path in sys.argv[1:]:
        for ln, line in enumerate(open(path), 1):
            line = line.rstrip("\n")
            got = None
            mo = LINE.match(line)
            mb = BCDL.match(line)
            if mo:
                op, sz, args, fin, r, f = mo.groups()
                w = WIDTH[sz]
                got = model(op, w, [num(x) for x in args.split(",")], num(fin))
            elif mb:
                op, ax, fin, r, f = mb.groups()
                got = bcd(op, num(ax), num(fin))
            if got is None and not mo and not mb:
                exp = extra(line)
                if exp is not None:
                    if line.split(": ", 1)[1] != exp:
                        bad += 1
                        print("%s:%d: %s   model: %s" % (path, ln, line, exp))
                    else:
                        ok += 1
                    continue
            if got is None:
                skipped += 1
                continue
            res, flags, mask = got
            if int(r, 16) != res or int(f, 16) != (flags & mask):
                bad += 1
                print("%s:%d: %s   model: r=%x f=%04x" % (path, ln, line, res, flags & mask))
            else:
                ok += 1
    print("alu_model: %d lines agree, %d disagree, %d without a model" % (ok, bad, skipped))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
