"""Times torch.optim.AdamW(fused=True) on the shapes of gpu_bench.cu, with the same
hyperparameters, CUDA events and statistic (median of --iters after --warmup), and a
device-to-device copy of the same tensor in the same run. Prints one JSON object."""
import argparse
import json
import statistics

import torch

SHAPES = [(50304, 768), (128256, 4096), (262144, 2304)]


def median_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for start, end in zip(starts, ends):
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iters", type=int, default=100)
    args = parser.parse_args()
    if args.iters < 50:
        parser.error("--iters must be at least 50")

    results = []
    for rows, cols in SHAPES:
        param = torch.nn.Parameter(torch.randn(rows, cols, device="cuda") * 0.02)
        param.grad = torch.randn_like(param) * 1e-3
        # The same settings as gpu_bench.cu: the paper's betas and eps, no weight decay.
        opt = torch.optim.AdamW([param], lr=6e-4, betas=(0.9, 0.95), eps=1e-8,
                                weight_decay=0.0, fused=True)
        adamw = median_ms(opt.step, args.warmup, args.iters)
        dst = torch.empty_like(param)
        copy = median_ms(lambda: dst.copy_(param.grad), args.warmup, args.iters)
        n = rows * cols
        results.append({
            "rows": rows, "cols": cols, "elements": n,
            "adamw_fused_ms": adamw, "copy_ms": copy,
            "adamw_fused_GBps": 28 * n / adamw / 1e6, "copy_GBps": 8 * n / copy / 1e6,
        })
        del opt, param, dst
        torch.cuda.empty_cache()
    print(json.dumps({
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0), "warmup": args.warmup, "iters": args.iters,
        "statistic": "median", "shapes": results,
    }, indent=1))


if __name__ == "__main__":
    main()
