#!/usr/bin/python3
"""The moons demo of micrograd's demo.ipynb, as a pure-Python scalar engine.

This is the Python side of stage 01-micrograd: the same Value / Neuron / Layer / MLP as
karpathy/micrograd (engine.py, nn.py) and the same training loop as its demo.ipynb. It is used
for two things, and is never needed to build, run or test the C++ program:

  * goldens: the per-step losses of other seeds, committed in tests/goldens/moons.json
      /usr/bin/python3 01-micrograd/reference.py --seeds 1337 42 7 --json 01-micrograd/tests/goldens/moons.json
  * the side-by-side benchmark in docs/benchmarks.md
      /usr/bin/python3 01-micrograd/reference.py --quiet

Two deliberate differences from micrograd, neither of which changes what is computed:
  * `_prev` is a tuple, not a set. micrograd's set of children is iterated in an order that depends
    on the objects' addresses, so the order in which a node's gradient contributions are summed (and
    with it the last digit or two of the losses) changes from run to run. A tuple fixes the order:
    left operand first, exactly what the C++ engine does, so the two agree bit for bit.
  * The inputs are Python floats (X.tolist()) rather than numpy float64 scalars: the same IEEE
    doubles, but pure-Python arithmetic, so the benchmark times the engine and not numpy's scalars.
And the learning rate is 1.0 - 0.9*k/steps, the notebook's 1.0 - 0.9*k/100 for its 100 steps, as
the C++ program's --steps does it.
Only make_moons comes from sklearn (numpy's legacy global RandomState, as in the notebook).
"""
import argparse
import json
import random
import sys
import time

import numpy as np
from sklearn.datasets import make_moons


# ---- engine (micrograd/engine.py) -------------------------------------------------------------
class Value:
    """stores a single scalar value and its gradient"""

    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = _children
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = Value(self.data**other, (self,), f'**{other}')

        def _backward():
            self.grad += (other * self.data**(other - 1)) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,), 'ReLU')

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)

        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1
    def __repr__(self): return f"Value(data={self.data}, grad={self.grad})"


# ---- nn (micrograd/nn.py) ---------------------------------------------------------------------
class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum([wi * xi for wi, xi in zip(self.w, x)], self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# ---- the demo (demo.ipynb) --------------------------------------------------------------------
def train_moons(seed, steps=100, quiet=False):
    """Returns per-step loss and accuracy lists, and the wall and CPU seconds of the training loop."""
    np.random.seed(seed)
    random.seed(seed)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1  # make y be -1 or 1
    X, y = X.tolist(), y.tolist()

    model = MLP(2, [16, 16, 1])  # 2-layer neural network

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]  # svm "max-margin" loss
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum((p * p for p in model.parameters()))  # L2 regularization
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    losses, accuracies = [], []
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / steps  # the notebook: 1.0 - 0.9*k/100, for its 100 steps
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        losses.append(total_loss.data)
        accuracies.append(acc)
        if not quiet:
            print(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
    return losses, accuracies, time.perf_counter() - t0, time.process_time() - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1337], help="np.random.seed and random.seed")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--json", help="write the per-step losses and accuracies of every seed here")
    ap.add_argument("--quiet", action="store_true", help="print only the timing line")
    ap.add_argument("--timing-json", help="write the timing of the (last) seed here, for bench.sh")
    args = ap.parse_args()

    runs = []
    for seed in args.seeds:
        losses, accs, wall, cpu = train_moons(seed, args.steps, args.quiet)
        print(f"seed {seed}: {args.steps} steps in {wall:.3f} s = {args.steps / wall:.3f} steps/s "
              f"(CPU {cpu:.3f} s; python {sys.version.split()[0]})")
        runs.append({"seed": seed, "loss": losses, "accuracy": accs})
        if args.timing_json:
            with open(args.timing_json, "w") as f:
                json.dump({"seed": seed, "steps": args.steps, "wall_s": wall, "cpu_s": cpu,
                           "steps_per_s": args.steps / wall, "loss": losses[-1]}, f)
    if args.json:
        golden = {
            "source": "01-micrograd/reference.py (micrograd engine + demo.ipynb, children in a tuple)",
            "command": "/usr/bin/python3 " + " ".join(["01-micrograd/reference.py"] + sys.argv[1:]),
            "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                         "sklearn": __import__("sklearn").__version__},
            "steps": args.steps,
            "runs": runs,
        }
        with open(args.json, "w") as f:
            json.dump(golden, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
