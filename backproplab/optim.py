"""Optimisers, gradient clipping and learning-rate schedules, with ``torch.optim``'s rules.

An optimiser holds a list of parameters (anything with ``.data`` and ``.grad`` arrays) and
updates ``.data`` in place in :meth:`Optimizer.step`. Parameters whose ``.grad`` is ``None``
are skipped, as in PyTorch.
"""

import math

import numpy as np

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "clip_grad_norm", "StepLR",
           "ExponentialLR", "CosineAnnealingLR"]


class Optimizer:
    """Base class: ``zero_grad()``, ``step()``, the learning rate ``lr``, and per-parameter
    ``state`` (a list of dicts, one per parameter)."""

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = float(lr)
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        """Set every parameter's ``.grad`` to None before the next backward pass."""
        for p in self.params:
            p.grad = None

    def step(self):
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p, p.grad, state)

    def __repr__(self):
        settings = ", ".join(f"{k}={v}" for k, v in vars(self).items()
                             if k not in ("params", "state"))
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    PyTorch's rule: ``g = grad + weight_decay * p``; with momentum,
    ``v = g`` at the first step, then ``v = momentum * v + g``, and ``p -= lr * v``
    (Nesterov: ``p -= lr * (g + momentum * v)``).
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("momentum and weight_decay must be >= 0")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            v = state.get("velocity")
            if v is None:
                v = state["velocity"] = np.array(g, copy=True)
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``: every parameter's step is
    divided by a running root-mean-square of its own gradient.

    ``g = grad + weight_decay * p``; ``s = alpha s + (1 - alpha) g^2`` (``square_avg``,
    starting at 0); the denominator is ``sqrt(s) + eps`` (centered: ``sqrt(s - a^2) + eps``
    with ``a = alpha a + (1 - alpha) g``, the running mean of g). Then ``p -= lr g / denom``,
    or with momentum ``buf = momentum buf + g / denom`` and ``p -= lr buf``.

    No bias correction (Adam adds one): ``s`` starts at 0, so the first step is
    ``lr / sqrt(1 - alpha)`` long per coordinate, 10 lr for the default alpha = 0.99.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, lr)
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        if eps < 0 or weight_decay < 0 or momentum < 0:
            raise ValueError("eps, weight_decay and momentum must be >= 0")
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if not state:
            state["square_avg"] = np.zeros_like(p.data)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p.data)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(p.data)
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * (g * g)
        if self.centered:
            a = state["grad_avg"]
            a *= self.alpha
            a += (1 - self.alpha) * g
            denom = np.sqrt(s - a * a)
        else:
            denom = np.sqrt(s)
        denom += self.eps
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / denom
            p.data -= self.lr * buf
        else:
            p.data -= self.lr * (g / denom)


class Adam(Optimizer):
    """Adam (Kingma & Ba), as ``torch.optim.Adam``.

    ``g = grad + weight_decay * p`` (L2, as PyTorch's Adam; AdamW decouples it);
    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g^2``;
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.betas, self.eps, self.weight_decay = (b1, b2), eps, weight_decay

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        self._adam_step(p, g, state)

    def _adam_step(self, p, g, state):
        """The Adam step for the gradient ``g`` (whatever weight decay has been done)."""
        b1, b2 = self.betas
        if not state:
            state.update(t=0, m=np.zeros_like(p.data), v=np.zeros_like(p.data))
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - b2**t)
        denom += self.eps
        p.data -= (self.lr / (1 - b1**t)) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    Before each Adam step, every parameter is shrunk by the factor ``1 - lr * weight_decay``:
    ``p *= 1 - lr * weight_decay``, then Adam's step for the data gradient alone
    (``m`` and ``v`` never see the decay). Adam's ``weight_decay`` adds ``weight_decay * p``
    to the gradient instead (L2 in the loss), which Adam then divides by ``sqrt(v)``: a
    parameter with large gradients is barely decayed, one with tiny gradients a lot.
    Decoupled, every parameter decays at the same rate. The default ``weight_decay=0.01``
    is PyTorch's (not 0), and a value tuned for Adam's L2 term means something else here:
    tune it anew.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, p, g, state):
        if self.weight_decay:
            p.data *= 1 - self.lr * self.weight_decay  # decoupled: not through m and v
        self._adam_step(p, g, state)


def clip_grad_norm(params, max_norm, norm_type=2.0):
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: the norm is taken over all gradients as one
    vector; if it exceeds ``max_norm`` every gradient is multiplied by
    ``max_norm / (norm + 1e-6)``. Returns the norm *before* clipping (a float).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) for g in grads)
    else:
        total = float(sum(np.sum(np.abs(g) ** norm_type) for g in grads) ** (1.0 / norm_type))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= coef
    return total


class _Schedule:
    """Base for learning-rate schedules: call ``step()`` once per epoch."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def step(self):
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def get_last_lr(self):
        return self.optimizer.lr


class StepLR(_Schedule):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(_Schedule):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = gamma

    def lr_at(self, epoch):
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2.

    PyTorch's closed form: after T_max epochs the cosine goes on (the rate rises again).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def lr_at(self, epoch):
        cos = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cos) / 2
