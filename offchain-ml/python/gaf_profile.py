"""Where the GAF regime classifier's batch-1 time goes in PyTorch eager, one thread, and what
other formulations of the same CNN cost (channels-last, im2col + matmul, pooling before the
ReLU). Shapes are the model's (2x64x64 input; 3x3 convolutions to 8, 16, 32 channels, each
followed by ReLU and 2x2 max pooling); the weights are random, which does not change the time.

Run: ~/.cache/noderr/torchenv/bin/python offchain-ml/python/gaf_profile.py
"""
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
LAYERS = [(torch.randn(c_out, c_in, 3, 3), torch.randn(c_out)) for c_in, c_out in ((2, 8), (8, 16), (16, 32))]
X = torch.randn(1, 2, 64, 64)


def median_us(f, n=2000):
    for _ in range(200):
        f()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[n // 2] * 1e6


def cnn(block, x=X, layers=LAYERS):
    def run():
        with torch.inference_mode():
            h = x
            for w, b in layers:
                h = block(h, w, b)
            return h.mean((2, 3))
    return run


def im2col(h, w, b):
    _, _, height, width = h.shape
    cols = F.unfold(h, 3, padding=1)[0]
    y = (w.view(w.shape[0], -1) @ cols + b[:, None]).view(1, -1, height, width)
    return F.max_pool2d(F.relu(y), 2)


print(f"whole CNN, as trained:        {median_us(cnn(lambda h, w, b: F.max_pool2d(F.relu(F.conv2d(h, w, b, padding=1)), 2))):7.1f} us")
for i, (w, b) in enumerate(LAYERS):
    size = 64 >> i
    x = torch.randn(1, w.shape[1], size, size)
    conv = median_us(cnn(lambda h, w, b: F.conv2d(h, w, b, padding=1), x, [(w, b)]))
    y = torch.randn(1, w.shape[0], size, size)
    pool = median_us(cnn(lambda h, w, b: F.max_pool2d(F.relu(h), 2), y, [(w, b)]))
    print(f"layer {i}: conv {conv:6.1f} us, relu + max-pool {pool:6.1f} us")
cl = [(w.contiguous(memory_format=torch.channels_last), b) for w, b in LAYERS]
print(f"channels-last:                {median_us(cnn(lambda h, w, b: F.max_pool2d(F.relu(F.conv2d(h, w, b, padding=1)), 2), X.contiguous(memory_format=torch.channels_last), cl)):7.1f} us")
print(f"im2col + matmul:              {median_us(cnn(im2col)):7.1f} us")
print(f"max-pool before relu:         {median_us(cnn(lambda h, w, b: F.relu(F.max_pool2d(F.conv2d(h, w, b, padding=1), 2)))):7.1f} us")
