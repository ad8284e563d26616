#!/usr/bin/python3
"""Golden fixtures for temper's optim/second L-BFGS (torch.optim.LBFGS parity).

Run from the repository root with Debian's python3-torch (1.13):

    /usr/bin/python3 tools/golden/lbfgs.py

It writes optim/second/testdata/lbfgs_<case>.json and hessian_logreg.json. Each file holds the problem
(name, start point, and for logistic regression the data), the LBFGS settings,
and the trajectory: x after every inner iteration of every step() call (an
"iterate"), until at least 20 iterates are recorded, plus per step() call the
returned loss, the number of inner iterations and the state's func_evals.
hessian_logreg.json holds the logistic-regression data, a point x and the exact
Hessian there from torch.autograd.functional.hessian (for Newton's difference Hessian).
Everything is float64. Go tests read the JSON; they never run Python.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "..", "optim", "second", "testdata")


def rosenbrock(x):
    # sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def make_logreg():
    g = torch.Generator().manual_seed(6)
    n, d = 80, 8
    # Columns on different scales make the problem ill-conditioned enough that
    # L-BFGS needs more than 20 iterations.
    scale = torch.tensor([3.0 ** (j - 4) for j in range(d)])
    a = torch.randn(n, d, generator=g) * scale
    w_true = torch.randn(d, generator=g)
    logits = a @ w_true + 0.3
    p = torch.sigmoid(logits)
    u = torch.rand(n, generator=g)
    y = (u < p).to(torch.float64)
    return a, y


def logreg_loss(a, y, l2):
    d = a.shape[1]

    def f(x):
        w, b = x[:d], x[d]
        z = a @ w + b
        # mean binary cross-entropy with logits: softplus(z) - y z
        loss = (torch.nn.functional.softplus(z) - y * z).mean()
        return loss + 0.5 * l2 * (w * w).sum()
    return f


class Recorder(torch.optim.LBFGS):
    """LBFGS that records x after every accepted update (inner iteration)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.in_ls = False
        self.iterates = []

    def _directional_evaluate(self, closure, x, t, d):
        self.in_ls = True
        try:
            return super()._directional_evaluate(closure, x, t, d)
        finally:
            self.in_ls = False

    def _add_grad(self, step_size, update):
        super()._add_grad(step_size, update)
        if not self.in_ls:
            self.iterates.append(self._params[0].detach().clone().tolist())


def run(name, f, x0, want_iters=20, max_steps=40, extra=None, **opts):
    x = torch.tensor(x0, requires_grad=True)
    opt = Recorder([x], **opts)

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    steps = []
    for _ in range(max_steps):
        before_iter = opt.state[x].get('n_iter', 0) if x in opt.state else 0
        before_evals = opt.state[x].get('func_evals', 0) if x in opt.state else 0
        loss = float(opt.step(closure))
        st = opt.state[x]
        steps.append({
            "loss": loss,
            "iters": st['n_iter'] - before_iter,
            "evals": st['func_evals'] - before_evals,
        })
        if len(opt.iterates) >= want_iters or steps[-1]["iters"] == 0:
            break
    with torch.no_grad():
        losses = [float(f(torch.tensor(it))) for it in opt.iterates]
    cfg = {k: v for k, v in opts.items()}
    out = {
        "name": name,
        "config": cfg,
        "x0": list(x0),
        "iterates": opt.iterates,
        "losses": losses,
        "steps": steps,
        "torch": torch.__version__,
    }
    if extra:
        out.update(extra)
    with open(os.path.join(OUT, "lbfgs_%s.json" % name), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(name, "steps", len(steps), "iterates", len(opt.iterates),
          "final loss", losses[-1])


def main():
    os.makedirs(OUT, exist_ok=True)
    sw = dict(line_search_fn="strong_wolfe")
    # 2-D Rosenbrock from the classic start, torch defaults.
    run("rosen2", rosenbrock, [-1.2, 1.0], **sw)
    # 2-D Rosenbrock, 4 inner iterations per step(): state carried across calls.
    run("rosen2_maxiter4", rosenbrock, [-1.2, 1.0], max_iter=4, **sw)
    # 10-D Rosenbrock with a short history (exercises the history shift).
    x10 = [-1.2 if i % 2 == 0 else 1.0 for i in range(10)]
    run("rosen10_hist5", rosenbrock, x10, history_size=5, **sw)
    run("rosen10", rosenbrock, x10, **sw)
    # Logistic regression (mean BCE + small L2), data fixed by a seeded generator.
    a, y = make_logreg()
    l2 = 1e-4
    data = {"a": a.tolist(), "y": y.tolist(), "l2": l2}
    f = logreg_loss(a, y, l2)
    x0 = [0.0] * (a.shape[1] + 1)
    run("logreg", f, x0, extra=data, **sw)
    # No line search: fixed step lr (torch's line_search_fn=None).
    run("logreg_fixed", f, x0, extra=data, lr=0.5)

    # Exact Hessian of the logistic regression (torch.autograd.functional.hessian) at a
    # fixed point, for Newton's central-difference Hessian.
    g = torch.Generator().manual_seed(7)
    xh = 0.3 * torch.randn(a.shape[1] + 1, generator=g)
    hess = torch.autograd.functional.hessian(f, xh)
    out = dict(data, x=xh.tolist(), loss=float(f(xh)), hessian=hess.tolist(),
               torch=torch.__version__)
    with open(os.path.join(OUT, "hessian_logreg.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("hessian_logreg", hess.shape)


if __name__ == "__main__":
    main()
