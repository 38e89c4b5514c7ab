#!/usr/bin/env python3
"""Tilekit's GPU check: runs the kernels test/gpu/prepare.mjs compiled on a real NVIDIA GPU.

    python3 test/gpu/check.py [--build DIR] [--only SUBSTRING ...] [--out DIR] [--no-bench]

For every case in DIR/manifest.json (default: the build/ folder next to this script) it
- creates seeded random inputs with torch on the GPU and an output filled with NaN,
- loads the case's cubin with CuPy (the sm_90a one on Hopper, the sm_80 one on sm_8x; the PTX,
  JIT-compiled by the driver, if the cubin does not load) and launches it with the arguments in
  the manifest's ABI order (compiler/ptx/kernel-abi.ts): tensor pointers (u64), shape symbols
  (u32), strides in elements (u64), scalars (f32),
- compares the output with a float32 PyTorch reference by relative L2 error (3e-3 for f16,
  1e-2 for bf16),
- times the kernel and the vendor baseline in the same run (CUDA events, warm-up 10, 50
  repetitions, median, the L2 flushed before each repetition by writing a 256 MB buffer):
  torch.matmul for gemm, SDPA pinned to the flash backend for attention, eager torch for the MLP,
and prints a Markdown table with the card, the date and the command. Exits 1 if any case fails
its correctness check (or cannot be loaded or launched), 0 otherwise.

Cases run in a worker process that this script supervises: a case that corrupts the CUDA context
(an illegal address) or hangs (past --case-timeout) is reported as failed, and a fresh worker
continues with the remaining cases. Nothing here needs Node or network access.
"""
import argparse
import contextlib
import datetime
import hashlib
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = {"f16": 3e-3, "bf16": 1e-2}
FLUSH_BYTES = 256 * 1024 * 1024
SMEM_DEFAULT_LIMIT = 48 * 1024


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Run Tilekit's prepared kernels on the GPU against PyTorch.")
    ap.add_argument("--build", default=os.path.join(HERE, "build"), help="folder with manifest.json and the cubins (default: %(default)s)")
    ap.add_argument("--only", action="append", default=[], help="run only cases whose name contains this (repeatable)")
    ap.add_argument("--out", help="also write results.md and results.json into this folder")
    ap.add_argument("--no-bench", action="store_true", help="check correctness only, no timing")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", choices=["sm_90a", "sm_80"], help="which prepared binary to load (default: from the device's compute capability)")
    ap.add_argument("--ptx", action="store_true", help="load the PTX (driver JIT) instead of the cubin")
    ap.add_argument("--case-timeout", type=float, default=300.0, help="seconds a single case may take before its worker is killed")
    ap.add_argument("--in-process", action="store_true", help="run the cases in this process (no worker, no hang protection)")
    # Internal: the worker side of the supervisor.
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cases", help=argparse.SUPPRESS)
    ap.add_argument("--events", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def load_manifest(build):
    path = os.path.join(build, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get("format") != "tilekit-gpu-check/1":
        raise SystemExit(f"error: {path} is not a tilekit-gpu-check/1 manifest (format {manifest.get('format')!r})")
    return manifest


def select_cases(manifest, only):
    cases = manifest["cases"]
    if only:
        cases = [c for c in cases if any(s in c["name"] for s in only)]
    return cases


# ---------------------------------------------------------------------------------------------
# Worker: runs cases, appends one JSON line per event to the events file.


class Worker:
    def __init__(self, args, manifest, emit):
        try:
            import numpy as np
            import torch
        except ImportError as e:
            raise SystemExit(f"error: PyTorch and NumPy are required ({e})") from None
        try:
            import cupy
        except ImportError as e:
            raise SystemExit(f"error: CuPy is required to load the cubins ({e})") from None
        self.np, self.torch, self.cupy = np, torch, cupy
        self.args, self.manifest, self.emit = args, manifest, emit
        if not torch.cuda.is_available():
            raise SystemExit("error: torch sees no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = False  # the reference is true f32
        torch.backends.cudnn.allow_tf32 = False
        self.dev = torch.device("cuda")
        torch.cuda.init()
        cap = torch.cuda.get_device_capability()
        self.capability = cap
        if args.target:
            self.target = args.target
        elif cap == (9, 0):
            self.target = "sm_90a"
        elif cap[0] == 8:
            self.target = "sm_80"  # an sm_80 cubin runs on every sm_8x
        else:
            self.target = None  # no matching cubin: JIT the sm_80 PTX
        self.TORCH_DTYPE = {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}
        self.flush_buf = None
        try:
            driver = cupy.cuda.runtime.driverGetVersion()
        except Exception:  # noqa: BLE001
            driver = None
        emit(
            {
                "event": "env",
                "device": torch.cuda.get_device_name(),
                "capability": f"{cap[0]}.{cap[1]}",
                "target": self.target or "sm_80 PTX (JIT)",
                "torch": torch.__version__,
                "torch_cuda": torch.version.cuda,
                "cupy": cupy.__version__,
                "driver": driver,
            }
        )

    # --- tensors -------------------------------------------------------------------------------

    def make_tensors(self, case):
        torch = self.torch
        gen = torch.Generator(device=self.dev)
        gen.manual_seed((self.args.seed * 1_000_003 + zlib.crc32(case["name"].encode())) & 0x7FFFFFFFFFFFFFFF)
        tensors = {}
        for name, t in case["tensors"].items():
            dtype = self.TORCH_DTYPE[t["dtype"]]
            if t["role"] == "output":
                tensors[name] = torch.full(t["shape"], float("nan"), dtype=dtype, device=self.dev)
            else:
                std = float(t.get("init_std", 1.0))
                x = torch.randn(t["shape"], generator=gen, device=self.dev, dtype=torch.float32)
                tensors[name] = (x * std).to(dtype)
        return tensors

    # --- loading and launching -----------------------------------------------------------------

    def load_kernel(self, case):
        """The RawKernel and a description of what was loaded; tries cubin, then PTX."""
        cupy = self.cupy
        build = self.args.build
        targets = case.get("targets", {})
        tries = []
        if self.target and self.target in targets:
            t = targets[self.target]
            if not self.args.ptx:
                tries.append(("cubin", self.target, t["cubin"], t.get("cubin_sha256")))
            tries.append(("ptx", self.target, t["ptx"], None))
        elif "sm_80" in targets:
            tries.append(("ptx", "sm_80", targets["sm_80"]["ptx"], None))
        if not tries:
            raise RuntimeError(f"no binary for {self.target} in the manifest (targets: {', '.join(targets)})")
        errors = []
        for kind, target, rel, digest in tries:
            path = os.path.join(build, rel)
            try:
                if digest is not None:
                    with open(path, "rb") as f:
                        if hashlib.sha256(f.read()).hexdigest() != digest:
                            raise RuntimeError(f"{rel} does not match the manifest's sha256 (rerun prepare.mjs and copy build/ again)")
                module = cupy.RawModule(path=path)
                kernel = module.get_function(case["entry"])
                smem = int(case["dynamicSmem"])
                if smem > SMEM_DEFAULT_LIMIT:
                    try:
                        kernel.max_dynamic_shared_size_bytes = smem
                    except AttributeError:
                        drv = cupy.cuda.driver
                        drv.funcSetAttribute(kernel.kernel.ptr, drv.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem)
                loaded = f"{target} {kind}"
                if errors:
                    loaded += " (after: " + "; ".join(errors) + ")"
                return kernel, module, loaded
            except Exception as e:  # noqa: BLE001 - try the next form, report all
                errors.append(f"{target} {kind} ({rel}): {type(e).__name__}: {e}")
        raise RuntimeError("cannot load the kernel: " + "; ".join(errors))

    def launch_args(self, case, tensors):
        np = self.np
        out = []
        for p in case["params"]:
            kind = p["kind"]
            if kind == "tensor":
                t = tensors[p["tensor"]]
                if t.dtype != self.TORCH_DTYPE[p["dtype"]]:
                    raise RuntimeError(f"parameter {p['name']}: tensor is {t.dtype}, the kernel expects {p['dtype']}")
                if not t.is_contiguous():
                    raise RuntimeError(f"parameter {p['name']}: tensor is not contiguous")
                out.append(np.uint64(t.data_ptr()))
            elif kind == "dim":
                value = int(p["value"])
                # Cross-check against the tensors: every axis named by this symbol has this size.
                for name, t in case["tensors"].items():
                    for axis, d in enumerate(t["dims"]):
                        if d == p["dim"] and tensors[name].shape[axis] != value:
                            raise RuntimeError(f"shape symbol {p['dim']} = {value}, but {name}.shape[{axis}] = {tensors[name].shape[axis]}")
                out.append(np.uint32(value))
            elif kind == "stride":
                s = tensors[p["tensor"]].stride(p["axis"])
                if s != int(p["value"]):
                    raise RuntimeError(f"parameter {p['name']}: stride {s}, manifest says {p['value']}")
                out.append(np.uint64(s))
            elif kind == "scalar":
                ctor = {"f32": np.float32, "i32": np.int32, "i64": np.int64}.get(p["dtype"])
                if ctor is None:
                    raise RuntimeError(f"parameter {p['name']}: cannot pass a {p['dtype']} scalar")
                out.append(ctor(p["value"]))
            else:
                raise RuntimeError(f"unknown ABI parameter kind {kind!r}")
        return tuple(out)

    def stream_context(self):
        ptr = self.torch.cuda.current_stream().cuda_stream
        # torch's default stream is the legacy null stream, which is CuPy's default as well.
        return contextlib.nullcontext() if ptr == 0 else self.cupy.cuda.ExternalStream(ptr)

    def launcher(self, case, tensors):
        kernel, module, loaded = self.load_kernel(case)
        args = self.launch_args(case, tensors)
        grid = tuple(int(g) for g in case["grid"])
        block = tuple(int(b) for b in case["block"])
        smem = int(case["dynamicSmem"])
        if min(grid) < 1:
            raise RuntimeError(f"empty grid {grid}")
        stream = self.stream_context()

        def run():
            with stream:
                kernel(grid, block, args, shared_mem=smem)

        run.module = module  # keep the module alive as long as the launcher
        return run, loaded

    # --- references and baselines ---------------------------------------------------------------

    def reference(self, case, t):
        torch = self.torch
        F = torch.nn.functional
        kind = case["reference"]
        if kind == "gemm":
            return t["a"].float() @ t["b"].float()
        if kind == "mlp_gate_up":
            x = t["x"].float()
            return F.silu(x @ t["wg"].float()) * (x @ t["wu"].float())
        if kind == "mlp_down":
            return t["h"].float() @ t["wd"].float() + t["r"].float()
        if kind == "attention":
            return self.attention_reference(case, t)
        raise RuntimeError(f"no reference for {kind!r}")

    def lower_right_mask(self, S, T):
        torch = self.torch
        i = torch.arange(S, device=self.dev)[:, None]
        j = torch.arange(T, device=self.dev)[None, :]
        return j <= i + (T - S)  # query i sees key j; bottom-right aligned (causal_lower_right)

    def attention_reference(self, case, t):
        """SDPA on float32 inputs (math backend), k/v heads expanded for GQA, one batch at a time."""
        torch = self.torch
        F = torch.nn.functional
        q, k, v = t["q"], t["k"], t["v"]
        B, H, S, _ = q.shape
        HKV, T = k.shape[1], k.shape[2]
        if H % HKV:
            raise RuntimeError(f"H={H} is not a multiple of HKV={HKV}")
        causal = bool(case["config"].get("causal", False))
        scale = float(case["scalars"]["scale"])
        mask = self.lower_right_mask(S, T) if causal else None
        out = torch.empty(q.shape, dtype=torch.float32, device=self.dev)
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel

            pin = lambda: sdpa_kernel(SDPBackend.MATH)  # noqa: E731
        except ImportError:
            pin = contextlib.nullcontext
        for b in range(B):
            qf = q[b : b + 1].float()
            kf = k[b : b + 1].float().repeat_interleave(H // HKV, dim=1)  # query head h reads kv head h // (H/HKV)
            vf = v[b : b + 1].float().repeat_interleave(H // HKV, dim=1)
            with pin():
                o = F.scaled_dot_product_attention(qf, kf, vf, attn_mask=mask, scale=scale)
            out[b : b + 1] = torch.nan_to_num(o, nan=0.0)  # a row that sees no key outputs 0
        return out

    def baselines(self, case, t):
        """Candidate baselines, best first: (label, fn returning the output)."""
        torch = self.torch
        F = torch.nn.functional
        kind = case["reference"]
        if kind == "gemm":
            c = torch.empty_like(t["c"])
            return [("torch.matmul", lambda: torch.matmul(t["a"], t["b"], out=c))]
        if kind == "mlp_gate_up":
            return [("eager torch: silu(x@wg) * (x@wu)", lambda: F.silu(t["x"] @ t["wg"]) * (t["x"] @ t["wu"]))]
        if kind == "mlp_down":
            return [("eager torch: h@wd + r", lambda: t["h"] @ t["wd"] + t["r"])]
        if kind == "attention":
            return self.attention_baselines(case, t)
        return []

    def attention_baselines(self, case, t):
        torch = self.torch
        F = torch.nn.functional
        q, k, v = t["q"], t["k"], t["v"]
        H, S = q.shape[1], q.shape[2]
        HKV, T = k.shape[1], k.shape[2]
        causal = bool(case["config"].get("causal", False))
        scale = float(case["scalars"]["scale"])
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
        except ImportError:
            SDPBackend = sdpa_kernel = None
        flash = (lambda: sdpa_kernel(SDPBackend.FLASH_ATTENTION)) if sdpa_kernel else None
        anyb = contextlib.nullcontext
        kx = vx = None

        def expanded():
            nonlocal kx, vx
            if kx is None:  # expanded once, outside the timed region
                kx = k.repeat_interleave(H // HKV, dim=1)
                vx = v.repeat_interleave(H // HKV, dim=1)
            return kx, vx

        def sdpa(ctx, gqa, **kw):
            def fn():
                with ctx():
                    if gqa:
                        return F.scaled_dot_product_attention(q, k, v, scale=scale, enable_gqa=True, **kw)
                    ke, ve = expanded()
                    return F.scaled_dot_product_attention(q, ke, ve, scale=scale, **kw)

            return fn

        out = []
        if not causal or S == T:
            # is_causal is top-left aligned in PyTorch, which equals bottom-right only when S == T.
            kw = {"is_causal": causal}
            if flash:
                out.append(("SDPA flash (enable_gqa)", sdpa(flash, True, **kw)))
                out.append(("SDPA flash (k/v heads expanded)", sdpa(flash, False, **kw)))
            out.append(("SDPA default backend (enable_gqa)", sdpa(anyb, True, **kw)))
            out.append(("SDPA default backend (k/v heads expanded)", sdpa(anyb, False, **kw)))
        else:
            # Bottom-right causal with S != T: flash has no such mask in PyTorch; causal_lower_right
            # lets SDPA pick a kernel that does it (memory-efficient attention), then a dense mask.
            try:
                from torch.nn.attention.bias import causal_lower_right

                bias = causal_lower_right(S, T)
                if flash:
                    out.append(("SDPA flash + causal_lower_right (enable_gqa)", sdpa(flash, True, attn_mask=bias)))
                out.append(("SDPA causal_lower_right (enable_gqa)", sdpa(anyb, True, attn_mask=bias)))
                out.append(("SDPA causal_lower_right (k/v heads expanded)", sdpa(anyb, False, attn_mask=bias)))
            except ImportError:
                pass
            mask = self.lower_right_mask(S, T)
            out.append(("SDPA dense bool mask (k/v heads expanded)", sdpa(anyb, False, attn_mask=mask)))
        return out

    # --- measuring -----------------------------------------------------------------------------

    def rel_l2(self, out, ref):
        torch = self.torch
        o = out.double()
        r = ref.double()
        den = torch.linalg.vector_norm(r).item()
        num = torch.linalg.vector_norm(o - r).item()
        return num / den if den > 0 else (0.0 if num == 0 else math.inf)

    def time_ms(self, fn):
        torch = self.torch
        if self.flush_buf is None:
            self.flush_buf = torch.empty(FLUSH_BYTES // 4, dtype=torch.int32, device=self.dev)
        for _ in range(self.args.warmup):
            fn()
        torch.cuda.synchronize()
        events = []
        for _ in range(self.args.reps):
            self.flush_buf.fill_(1)  # evicts the L2 (a 256 MB write)
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn()
            e.record()
            events.append((s, e))
        torch.cuda.synchronize()
        times = sorted(s.elapsed_time(e) for s, e in events)
        n = len(times)
        return times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2

    # --- one case --------------------------------------------------------------------------------

    def run_case(self, case):
        torch = self.torch
        res = {"case": case["name"], "dtype": case["tensors"][case["output"]]["dtype"], "notes": []}
        tol = TOLERANCE.get(res["dtype"], 1e-2)
        res["tolerance"] = tol
        t = ref = None
        try:
            t = self.make_tensors(case)
            run, loaded = self.launcher(case, t)
            res["loaded"] = loaded
            run()
            torch.cuda.synchronize()
            out = t[case["output"]]
            nonfinite = int((~torch.isfinite(out)).sum().item())
            ref = self.reference(case, t)
            err = self.rel_l2(out, ref)
            res["rel_l2"] = err
            res["ok"] = bool(nonfinite == 0 and err <= tol)
            if nonfinite:
                res["notes"].append(f"{nonfinite} non-finite output elements (NaN: never written or overflow)")
            if not self.args.no_bench:
                res["tilekit_ms"] = self.time_ms(run)
                # The launch may have been corrupted by a later run: check the output again.
                torch.cuda.synchronize()
                err2 = self.rel_l2(out, ref)
                if not (err2 <= tol) and res["ok"]:
                    res["ok"] = False
                    res["notes"].append(f"output changed while timing: rel L2 {err2:.2e}")
                self.bench_baseline(case, t, ref, tol, res)
        except Exception as e:  # noqa: BLE001 - report and continue with the next case
            res["ok"] = False
            res["error"] = f"{type(e).__name__}: {e}"
            res["traceback"] = traceback.format_exc()
        finally:
            del t, ref
            try:
                torch.cuda.synchronize()
                torch.cuda.empty_cache()
            except Exception as e:  # noqa: BLE001
                res.setdefault("error", f"CUDA context unusable after this case: {e}")
                res["ok"] = False
                res["context_lost"] = True
        flops = case_flops(case)
        if flops:
            res["flops"] = flops
        return res

    def bench_baseline(self, case, t, ref, tol, res):
        tried = []
        for label, fn in self.baselines(case, t):
            try:
                o = fn()
                self.torch.cuda.synchronize()
                err = self.rel_l2(o, ref)
                del o
                if not (err <= tol):
                    tried.append(f"{label}: rel L2 {err:.2e} (not the same function; skipped)")
                    continue
                res["baseline"] = label
                res["baseline_rel_l2"] = err
                res["baseline_ms"] = self.time_ms(fn)
                break
            except Exception as e:  # noqa: BLE001 - try the next candidate
                tried.append(f"{label}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        if tried:
            res["notes"].append("baselines tried first: " + " | ".join(tried))
        if "baseline_ms" not in res:
            res["notes"].append("no baseline could run")


def case_flops(case):
    d = case.get("dims", {})
    k = case["reference"]
    try:
        if k == "gemm":
            return 2 * d["M"] * d["N"] * d["K"]
        if k == "mlp_gate_up":
            return 4 * d["M"] * d["E"] * d["F"]
        if k == "mlp_down":
            return 2 * d["M"] * d["F"] * d["E"]
        if k == "attention":
            B, H, S, T = d["B"], d["H"], d["S"], d["T"]
            D = case["tensors"]["q"]["shape"][-1]
            if case["config"].get("causal"):
                pairs = sum(min(T, max(0, i + T - S + 1)) for i in range(S))
            else:
                pairs = S * T
            return 4 * B * H * pairs * D
    except KeyError:
        return None
    return None


def worker_main(args, manifest):
    names = args.cases.split(",") if args.cases else None
    cases = [c for c in manifest["cases"] if names is None or c["name"] in names]
    with open(args.events, "a") as ev:

        def emit(obj):
            ev.write(json.dumps(obj) + "\n")
            ev.flush()

        w = Worker(args, manifest, emit)
        for c in cases:
            emit({"event": "start", "case": c["name"]})
            r = w.run_case(c)
            emit({"event": "done", "result": r})
            print(progress_line(r), flush=True)
            if r.get("context_lost"):
                return 3  # the supervisor starts a fresh worker for the rest
    return 0


# ---------------------------------------------------------------------------------------------
# Supervisor


def progress_line(r):
    s = f"{r['case']}: "
    if "rel_l2" in r:
        s += f"rel L2 {r['rel_l2']:.2e} "
    s += "ok" if r.get("ok") else "FAIL"
    if "tilekit_ms" in r:
        s += f", tilekit {r['tilekit_ms']:.3f} ms"
    if "baseline_ms" in r:
        s += f", baseline {r['baseline_ms']:.3f} ms ({r['baseline']})"
    if r.get("error"):
        s += f"\n  error: {r['error']}"
    return s


def read_events(path, pos):
    """New complete lines of the events file from byte offset `pos`."""
    out = []
    try:
        with open(path) as f:
            f.seek(pos)
            while True:
                line = f.readline()
                if not line or not line.endswith("\n"):
                    break
                pos = f.tell()
                out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out, pos


def supervise(args, argv, cases):
    """Runs the cases in worker processes; returns (env, results in case order)."""
    env_info = None
    results = {}
    remaining = [c["name"] for c in cases]
    fd, events = tempfile.mkstemp(prefix="tilekit-gpu-check-", suffix=".jsonl")
    os.close(fd)
    proc = None

    def finish(name, result):
        nonlocal remaining
        results[name] = result
        remaining = [n for n in remaining if n != name]

    try:
        while remaining:
            with open(events, "w"):
                pass  # a fresh event log for each worker
            cmd = [sys.executable, os.path.abspath(__file__), *argv, "--worker", "--events", events, "--cases", ",".join(remaining)]
            proc = subprocess.Popen(cmd, start_new_session=True)
            pos, current, started, killed = 0, None, time.monotonic(), False
            while True:
                exited = proc.poll() is not None
                new, pos = read_events(events, pos)
                for e in new:
                    if e["event"] == "env":
                        env_info = env_info or e
                    elif e["event"] == "start":
                        current, started = e["case"], time.monotonic()
                    elif e["event"] == "done":
                        finish(e["result"]["case"], e["result"])
                        current = None
                if exited:
                    break
                if current is not None and time.monotonic() - started > args.case_timeout:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, 9)
                    proc.wait()
                    killed = True
                    break
                time.sleep(0.2)
            rc = proc.returncode
            proc = None
            if current is not None:
                # A case started and never finished: it hung, or it took the worker down.
                why = f"timed out after {args.case_timeout:.0f} s (worker killed)" if killed else f"worker died during this case (exit {rc})"
                finish(current, {"case": current, "ok": False, "error": why, "notes": []})
                print(f"{current}: FAIL\n  error: {why}", flush=True)
                continue  # a fresh worker for the rest
            if not remaining:
                break
            if rc == 3:
                continue  # the CUDA context was lost after a finished case: a fresh worker for the rest
            # The worker stopped without running these (no torch, no CuPy, no GPU: see its message above).
            for n in list(remaining):
                finish(n, {"case": n, "ok": False, "error": f"not run: the worker exited with {rc} before reaching it", "notes": []})
    finally:
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
        with contextlib.suppress(OSError):
            os.unlink(events)
    return env_info, [results[c["name"]] for c in cases if c["name"] in results]


# ---------------------------------------------------------------------------------------------
# Report


def fmt_ms(x):
    return "—" if x is None else f"{x:.3f}"


def report(manifest, env, results, command, args):
    lines = []
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines.append("## Tilekit NVIDIA backend on the GPU")
    lines.append("")
    if env:
        lines.append(
            f"Card: **{env['device']}** (compute capability {env['capability']}, binaries: {env['target']}); "
            f"torch {env['torch']} (CUDA {env['torch_cuda']}), CuPy {env['cupy']}, driver {env['driver']}."
        )
    else:
        lines.append("Card: unknown (the worker never started).")
    git = manifest.get("git") or {}
    built = f"{git.get('commit', '?')[:12]}{' (dirty)' if git.get('dirty') else ''}"
    lines.append(f"Date: {date}. Command: `{command}`. Built from {built} with ptxas {manifest.get('ptxas', '?')}.")
    bench = "" if args.no_bench else f" Times: CUDA events, median of {args.reps} after {args.warmup} warm-up runs, L2 flushed (256 MB write) before each."
    lines.append(f"Correctness: relative L2 error against a float32 PyTorch reference; tolerance 3e-3 (f16), 1e-2 (bf16).{bench}")
    lines.append("")
    lines.append("| case | rel L2 | ok | tilekit ms | baseline ms | ratio (baseline/tilekit) |")
    lines.append("|---|---|---|---|---|---|")
    for r in results:
        err = f"{r['rel_l2']:.2e}" if "rel_l2" in r else "—"
        ok = "yes" if r.get("ok") else "**NO**"
        tk, bl = r.get("tilekit_ms"), r.get("baseline_ms")
        ratio = f"{bl / tk:.2f}×" if tk and bl else "—"
        lines.append(f"| {r['case']} | {err} | {ok} | {fmt_ms(tk)} | {fmt_ms(bl)} | {ratio} |")
    for f in manifest.get("failed", []):
        lines.append(f"| {f['name']} | — | **NO** (did not compile) | — | — | — |")
    lines.append("")
    notes = []
    for r in results:
        bits = []
        if r.get("baseline"):
            bits.append(f"baseline: {r['baseline']}")
        if r.get("flops") and r.get("tilekit_ms"):
            tf = r["flops"] / (r["tilekit_ms"] * 1e-3) / 1e12
            s = f"tilekit {tf:.1f} TFLOP/s"
            if r.get("baseline_ms"):
                s += f", baseline {r['flops'] / (r['baseline_ms'] * 1e-3) / 1e12:.1f}"
            bits.append(s)
        if r.get("loaded") and env and not r["loaded"].startswith(env["target"] + " cubin"):
            bits.append(f"loaded {r['loaded']}")
        if r.get("error"):
            bits.append(f"error: {r['error']}")
        bits.extend(r.get("notes", []))
        if bits:
            notes.append(f"- {r['case']}: " + "; ".join(bits))
    for f in manifest.get("failed", []):
        notes.append(f"- {f['name']}: prepare.mjs could not build it: {f['error'].splitlines()[0]}")
    if notes:
        lines.append("Notes:")
        lines.extend(notes)
        lines.append("")
    return "\n".join(lines)


def main(argv):
    args = parse_args(argv)
    args.build = os.path.abspath(args.build)
    manifest = load_manifest(args.build)
    if args.worker:
        return worker_main(args, manifest)

    cases = select_cases(manifest, args.only)
    if not cases:
        print(f"error: no case matches {args.only}", file=sys.stderr)
        return 2
    command = " ".join(shlex.quote(a) for a in ["python3", *sys.argv])
    if args.in_process:
        results = []
        env = {}
        w = Worker(args, manifest, lambda e: env.update(e) if e["event"] == "env" else None)
        for c in cases:
            r = w.run_case(c)
            print(progress_line(r), flush=True)
            results.append(r)
    else:
        passthrough = [a for a in argv if a != "--in-process"]
        env, results = supervise(args, passthrough, cases)

    table = report(manifest, env, results, command, args)
    print()
    print(table)
    for r in results:
        if r.get("traceback"):
            print(f"--- {r['case']}\n{r['traceback']}", file=sys.stderr)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.md"), "w") as f:
            f.write(table + "\n")
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"env": env, "command": command, "results": results, "failed_to_build": manifest.get("failed", [])}, f, indent=2)
    failed = [r for r in results if not r.get("ok")] + list(manifest.get("failed", []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
