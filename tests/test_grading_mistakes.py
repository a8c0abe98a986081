"""Mistakes the grader learnt to name for issue 10, one planted bug each: the answer cell of
the solution notebook with the student's text in it, run in-process. The part must lose points
and a failed test must name the mistake. The first ones were caught without a name, or not
caught at all, before (inputs changed in place, draws from another generator, Adam's typos,
...); the rest are held-out mistakes found after a first round of names.
"""

import pytest

from exercise_support import Exercise, cell, check_quietly, checked_names

NOTEBOOKS = {"01": "01_forward_pass", "02": "02_measuring_error", "03": "03_chain_rule_and_graphs",
             "04": "04_backward_pass", "05": "05_gradient_descent",
             "06": "06_vanishing_and_exploding_gradients",
             "07": "07_overfitting_and_underfitting", "08": "08_capstone_digits"}

# (what the student wrote, answer cell, [(solution text, student's text)], part, phrase)
PLANTED = [
    ('clips its input in place first',
     'ex01_sigmoid_answer',
     [('    Z = np.asarray(Z, dtype=float)\n'
       '    e = np.exp(-np.abs(Z))  # in (0, 1]: never overflows\n'
       '    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))',
       '    Z[Z < -500] = -500\n    return 1 / (1 + np.exp(-Z))')],
     'ex01_sigmoid',
     'wrote into an array it was given'),
    ('relu in place',
     'ex01_relu_answer',
     [('    return np.maximum(Z, 0)', '    Z[Z < 0] = 0\n    return Z')],
     'ex01_relu',
     'wrote into an array it was given'),
    ('leaky relu in place',
     'ex01_relu_answer',
     [('    return np.where(Z > 0, Z, alpha * Z)', '    Z[Z < 0] *= alpha\n    return Z')],
     'ex01_relu',
     'wrote into an array it was given'),
    ('dA scaled in place',
     'ex01_sigmoid_backward_answer',
     [('    return dA * A * (1 - A)', '    dA *= A * (1 - A)\n    return dA')],
     'ex01_sigmoid_backward',
     'wrote into an array it was given'),
    ('its own seeded generator',
     'ex01_my_linear_answer',
     [('        rng = np.random.default_rng() if rng is None else rng\n'
       '        bound = 1 / np.sqrt(in_features)\n'
       '        self.W = rng.uniform(-bound, bound, size=(in_features, out_features))\n'
       '        self.b = rng.uniform(-bound, bound, size=out_features)',
       '        rng = np.random.default_rng(0)\n'
       '        bound = 1 / np.sqrt(in_features)\n'
       '        self.W = rng.uniform(-bound, bound, size=(in_features, out_features))\n'
       '        self.b = rng.uniform(-bound, bound, size=out_features)')],
     'ex01_my_linear',
     'another seed'),
    ('in place on Y_hat',
     'ex02_mse_grad_answer',
     [('    return 2 * (Y_hat - Y) / Y_hat.size',
       '    Y_hat -= Y\n    return 2 * Y_hat / Y_hat.size')],
     'ex02_mse_grad',
     'wrote into an array it was given'),
    ('in place',
     'ex02_softmax_answer',
     [('    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0\n'
       '    return E / E.sum(axis=1, keepdims=True)',
       '    Z -= Z.max(axis=1, keepdims=True)\n'
       '    np.exp(Z, out=Z)\n'
       '    Z /= Z.sum(axis=1, keepdims=True)\n'
       '    return Z')],
     'ex02_softmax',
     'wrote into an array it was given'),
    ('keepdims forgotten in the sum',
     'ex02_softmax_answer',
     [('    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0\n'
       '    return E / E.sum(axis=1, keepdims=True)',
       '    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n    return E / E.sum(axis=1)')],
     'ex02_softmax',
     'keepdims=True keeps it'),
    ('shifts Z in place',
     'ex02_cross_entropy_grad_answer',
     [('    N = len(y)\n'
       '    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n'
       '    G = E / E.sum(axis=1, keepdims=True)  # P, a new array\n'
       '    G[np.arange(N), y] -= 1  # P - T\n'
       '    return G / N',
       '    N = len(y)\n'
       '    Z -= Z.max(axis=1, keepdims=True)\n'
       '    E = np.exp(Z)\n'
       '    G = E / E.sum(axis=1, keepdims=True)  # P, a new array\n'
       '    G[np.arange(N), y] -= 1  # P - T\n'
       '    return G / N')],
     'ex02_cross_entropy_grad',
     'wrote into an array it was given'),
    ("reverses the caller's list",
     'ex03_backward_answer',
     [('    for node in order:\n'
       '        node.grad = 0.0\n'
       '    root.grad = 1.0                              # d root / d root\n'
       '    for node in reversed(order):                 # every consumer before the nodes it '
       'uses\n'
       '        for child, local in zip(node.children, node.local_grads):\n'
       '            child.grad += local * node.grad      # the chain rule; += adds up every '
       'use',
       '    for node in order:\n'
       '        node.grad = 0.0\n'
       '    root.grad = 1.0                              # d root / d root\n'
       '    order.reverse()\n'
       '    for node in order:                 # every consumer before the nodes it uses\n'
       '        for child, local in zip(node.children, node.local_grads):\n'
       '            child.grad += local * node.grad      # the chain rule; += adds up every '
       'use')],
     'ex03_backward',
     'changed its second argument (order) in place'),
    ('CS231n aliasing: dZ = dA then mask',
     'ex04_relu_backward_answer',
     [('    return dA * (Z > 0)      # the mask from the forward pass; 0 at the kink',
       '    dZ = dA\n    dZ[Z <= 0] = 0\n    return dZ')],
     'ex04_relu_backward',
     'wrote into an array it was given'),
    ('in place',
     'ex04_sigmoid_backward_answer',
     [('    return dA * A * (1 - A)', '    dA *= A * (1 - A)\n    return dA')],
     'ex04_sigmoid_backward',
     'wrote into an array it was given'),
    ('in place shift',
     'ex04_softmax_ce_backward_answer',
     [('    N, C = Z.shape\n'
       '    E = np.exp(Z - Z.max(axis=1, keepdims=True))    # stable: every exponent <= 0\n'
       '    P = E / E.sum(axis=1, keepdims=True)\n'
       '    T = np.zeros((N, C))\n'
       '    T[np.arange(N), y] = 1.0\n'
       '    return (P - T) / N',
       '    N, C = Z.shape\n'
       '    Z -= Z.max(axis=1, keepdims=True)\n'
       '    E = np.exp(Z)    # stable: every exponent <= 0\n'
       '    P = E / E.sum(axis=1, keepdims=True)\n'
       '    T = np.zeros((N, C))\n'
       '    T[np.arange(N), y] = 1.0\n'
       '    return (P - T) / N')],
     'ex04_softmax_ce_backward',
     'wrote into an array it was given'),
    ('masks the cache in place',
     'ex04_mlp_backward_answer',
     [('    dZ1 = dA1 * (Z1 > 0)                 # the ReLU mask, from the forward pass',
       '    Z1[Z1 <= 0] = 0\n    dZ1 = dA1 * (Z1 > 0)')],
     'ex04_mlp_backward',
     'wrote into an array it was given'),
    ('scales the gradients in place',
     'ex05_sgd_step_answer',
     [('    for p, g in zip(params, grads):\n        p -= lr * g',
       '    for p, g in zip(params, grads):\n        g *= lr\n        p -= g')],
     'ex05_sgd_step',
     'wrote into an array it was given'),
    ('sign-flipped momentum',
     'ex05_momentum_step_answer',
     [('    if velocity is None:\n'
       '        velocity = grad.copy()\n'
       '    else:\n'
       '        velocity = momentum * velocity + grad\n'
       '    param -= lr * velocity\n'
       '    return velocity',
       '    if velocity is None:\n'
       '        velocity = grad.copy()\n'
       '    else:\n'
       '        velocity = momentum * velocity - grad\n'
       '    param -= lr * velocity\n'
       '    return velocity')],
     'ex05_momentum_step',
     'sign'),
    ('lr inside the velocity too',
     'ex05_momentum_step_answer',
     [('    if velocity is None:\n'
       '        velocity = grad.copy()\n'
       '    else:\n'
       '        velocity = momentum * velocity + grad\n'
       '    param -= lr * velocity\n'
       '    return velocity',
       '    if velocity is None:\n'
       '        velocity = lr * grad\n'
       '    else:\n'
       '        velocity = momentum * velocity + lr * grad\n'
       '    param -= lr * velocity\n'
       '    return velocity')],
     'ex05_momentum_step',
     'learning rate'),
    ('grad changed in place',
     'ex05_momentum_step_answer',
     [('    if velocity is None:\n'
       '        velocity = grad.copy()\n'
       '    else:\n'
       '        velocity = momentum * velocity + grad\n'
       '    param -= lr * velocity\n'
       '    return velocity',
       '    if velocity is None:\n'
       '        velocity = np.zeros_like(param)\n'
       '    grad += momentum * velocity\n'
       '    param -= lr * grad\n'
       '    return grad')],
     'ex05_momentum_step',
     'wrote into an array it was given'),
    ('typo beta1 * t',
     'ex05_adam_step_answer',
     [('    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t',
       '    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 * t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t')],
     'ex05_adam_step',
     '1 - beta1 * t'),
    ('typo beta2 in m_hat',
     'ex05_adam_step_answer',
     [('    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t',
       '    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta2 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t')],
     'ex05_adam_step',
     'beta2'),
    ('typo beta1 in v_hat',
     'ex05_adam_step_answer',
     [('    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t',
       '    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta1 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t')],
     'ex05_adam_step',
     'beta1'),
    ('returns corrected moments',
     'ex05_adam_step_answer',
     [('    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t',
       '    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m_hat, v_hat, t')],
     'ex05_adam_step',
     'corrected'),
    ('no square root',
     'ex05_adam_step_answer',
     [('    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t',
       '    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (v_hat + eps)\n'
       '    return m, v, t')],
     'ex05_adam_step',
     'square root'),
    ('rebinds param',
     'ex05_adam_step_answer',
     [('    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param -= lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t',
       '    beta1, beta2 = betas\n'
       '    t = t + 1\n'
       '    m = beta1 * m + (1 - beta1) * grad\n'
       '    v = beta2 * v + (1 - beta2) * grad * grad\n'
       '    m_hat = m / (1 - beta1 ** t)\n'
       '    v_hat = v / (1 - beta2 ** t)\n'
       '    param = param - lr * m_hat / (np.sqrt(v_hat) + eps)\n'
       '    return m, v, t')],
     'ex05_adam_step',
     'a new array'),
    ('np.random.permutation',
     'ex05_train_epoch_answer',
     [('    N = len(X)\n'
       '    order = rng.permutation(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N',
       '    N = len(X)\n'
       '    order = np.random.permutation(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N')],
     'ex05_train_epoch',
     "NumPy's global generator"),
    ('shuffles X in place',
     'ex05_train_epoch_answer',
     [('    N = len(X)\n'
       '    order = rng.permutation(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N',
       '    N = len(X)\n'
       '    rng.shuffle(X)\n'
       '    order = np.arange(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N')],
     'ex05_train_epoch',
     'wrote into an array it was given'),
    ('a new permutation per batch',
     'ex05_train_epoch_answer',
     [('    N = len(X)\n'
       '    order = rng.permutation(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N',
       '    N = len(X)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = rng.permutation(N)[:batch_size] if start + batch_size <= N else '
       'rng.permutation(N)[:N - start]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N')],
     'ex05_train_epoch',
     'permutation'),
    ('unseeded generator',
     'ex05_train_epoch_answer',
     [('    N = len(X)\n'
       '    order = rng.permutation(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N',
       '    N = len(X)\n'
       '    order = np.random.default_rng().permutation(N)\n'
       '    total = 0.0\n'
       '    for start in range(0, N, batch_size):\n'
       '        idx = order[start:start + batch_size]\n'
       '        xb, yb = X[idx], y[idx]\n'
       '        loss = loss_fn(model(xb), yb)\n'
       '        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()\n'
       '        total += loss * len(idx)\n'
       '    return total / N')],
     'ex05_train_epoch',
     'the same rng, in the same state, gave a different result'),
    ('Frobenius norm for the spectral one',
     'ex05_max_stable_lr_answer',
     [('    return float(2 / np.linalg.eigvalsh(A)[-1])', '    return 2 / np.linalg.norm(A)')],
     'ex05_max_stable_lr',
     'Frobenius'),
    ('np.random.uniform',
     'ex06_xavier_uniform_answer',
     [('    a = np.sqrt(6.0 / (fan_in + fan_out))\n'
       '    return rng.uniform(-a, a, size=(fan_in, fan_out))',
       '    a = np.sqrt(6.0 / (fan_in + fan_out))\n'
       '    return np.random.uniform(-a, a, size=(fan_in, fan_out))')],
     'ex06_xavier_uniform',
     "NumPy's global generator"),
    ('own seed',
     'ex06_xavier_uniform_answer',
     [('    a = np.sqrt(6.0 / (fan_in + fan_out))\n'
       '    return rng.uniform(-a, a, size=(fan_in, fan_out))',
       '    a = np.sqrt(6.0 / (fan_in + fan_out))\n'
       '    return np.random.default_rng(42).uniform(-a, a, size=(fan_in, fan_out))')],
     'ex06_xavier_uniform',
     'another seed'),
    ("normal with Xavier's variance",
     'ex06_xavier_uniform_answer',
     [('    a = np.sqrt(6.0 / (fan_in + fan_out))\n'
       '    return rng.uniform(-a, a, size=(fan_in, fan_out))',
       '    return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))')],
     'ex06_xavier_uniform',
     'normal'),
    ('np.random.randn',
     'ex06_he_normal_answer',
     [('    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))',
       '    return np.random.randn(fan_in, fan_out) * np.sqrt(2 / fan_in)')],
     'ex06_he_normal',
     "NumPy's global generator"),
    ('unseeded generator',
     'ex06_he_normal_answer',
     [('    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))',
       '    return np.random.default_rng().normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, '
       'fan_out))')],
     'ex06_he_normal',
     'the same rng, in the same state, gave a different result'),
    ('spectral norm',
     'ex06_layer_grad_norms_answer',
     [('    return [float(np.linalg.norm(layer.W.grad))\n'
       '            for layer in model.layers if isinstance(layer, bp.Linear)]',
       '    return [float(np.linalg.norm(layer.W.grad, 2))\n'
       '            for layer in model.layers if isinstance(layer, bp.Linear)]')],
     'ex06_layer_grad_norms',
     'spectral'),
    ('in place',
     'ex07_l2_grad_answer',
     [('    return lam * W', '    W *= lam\n    return W')],
     'ex07_l2_grad',
     'wrote into an array it was given'),
    ('eval still draws',
     'ex07_dropout_forward_answer',
     [('    if not train:\n'
       '        return x, np.ones_like(x)\n'
       '    keep = rng.random(x.shape) >= p\n'
       '    mask = keep / (1 - p)\n'
       '    return x * mask, mask',
       '    keep = rng.random(x.shape) >= p\n'
       '    if not train:\n'
       '        return x, np.ones_like(x)\n'
       '    mask = keep / (1 - p)\n'
       '    return x * mask, mask')],
     'ex07_dropout_forward',
     'drew from rng'),
    ('np.random.rand',
     'ex07_dropout_forward_answer',
     [('    if not train:\n'
       '        return x, np.ones_like(x)\n'
       '    keep = rng.random(x.shape) >= p\n'
       '    mask = keep / (1 - p)\n'
       '    return x * mask, mask',
       '    if not train:\n'
       '        return x, np.ones_like(x)\n'
       '    keep = np.random.rand(*x.shape) >= p\n'
       '    mask = keep / (1 - p)\n'
       '    return x * mask, mask')],
     'ex07_dropout_forward',
     "NumPy's global generator"),
    ('binomial mask',
     'ex07_dropout_forward_answer',
     [('    if not train:\n'
       '        return x, np.ones_like(x)\n'
       '    keep = rng.random(x.shape) >= p\n'
       '    mask = keep / (1 - p)\n'
       '    return x * mask, mask',
       '    if not train:\n'
       '        return x, np.ones_like(x)\n'
       '    keep = rng.binomial(1, 1 - p, size=x.shape)\n'
       '    mask = keep / (1 - p)\n'
       '    return x * mask, mask')],
     'ex07_dropout_forward',
     'binomial'),
    ('in place',
     'ex07_dropout_backward_answer',
     [('    return grad_out * mask', '    grad_out *= mask\n    return grad_out')],
     'ex07_dropout_backward',
     'wrote into an array it was given'),
    ('counter never reset',
     'ex07_early_stopping_answer',
     [('    best_loss, best_epoch, waited = np.inf, None, 0\n'
       '    for epoch, loss in enumerate(val_losses, start=1):\n'
       '        if loss < best_loss:\n'
       '            best_loss, best_epoch, waited = loss, epoch, 0\n'
       '        else:\n'
       '            waited += 1\n'
       '            if waited == patience:\n'
       '                return epoch, best_epoch\n'
       '    return len(val_losses), best_epoch',
       '    best_loss, best_epoch, waited = np.inf, None, 0\n'
       '    for epoch, loss in enumerate(val_losses, start=1):\n'
       '        if loss < best_loss:\n'
       '            best_loss, best_epoch = loss, epoch\n'
       '        else:\n'
       '            waited += 1\n'
       '            if waited == patience:\n'
       '                return epoch, best_epoch\n'
       '    return len(val_losses), best_epoch')],
     'ex07_early_stopping',
     'never reset'),
    ("sorts the caller's list",
     'ex07_early_stopping_answer',
     [('    best_loss, best_epoch, waited = np.inf, None, 0\n'
       '    for epoch, loss in enumerate(val_losses, start=1):\n'
       '        if loss < best_loss:\n'
       '            best_loss, best_epoch, waited = loss, epoch, 0\n'
       '        else:\n'
       '            waited += 1\n'
       '            if waited == patience:\n'
       '                return epoch, best_epoch\n'
       '    return len(val_losses), best_epoch',
       '    best = min(val_losses)\n'
       '    val_losses.sort()\n'
       '    best_loss, best_epoch, waited = np.inf, None, 0\n'
       '    for epoch, loss in enumerate(val_losses, start=1):\n'
       '        if loss < best_loss:\n'
       '            best_loss, best_epoch, waited = loss, epoch, 0\n'
       '        else:\n'
       '            waited += 1\n'
       '            if waited == patience:\n'
       '                return epoch, best_epoch\n'
       '    return len(val_losses), best_epoch')],
     'ex07_early_stopping',
     'changed its first argument'),
    ('std + 1e-8',
     'ex08_standardize_answer',
     [('    mean = X_train.mean(axis=0)\n'
       '    std = X_train.std(axis=0)\n'
       '    std = np.where(std == 0, 1.0, std)\n'
       '    return (X_train - mean) / std, (X_test - mean) / std',
       '    mean = X_train.mean(axis=0)\n'
       '    std = X_train.std(axis=0) + 1e-8\n'
       '    return (X_train - mean) / std, (X_test - mean) / std')],
     'ex08_standardize',
     '1e-8'),
    ('in place on X_train',
     'ex08_standardize_answer',
     [('    mean = X_train.mean(axis=0)\n'
       '    std = X_train.std(axis=0)\n'
       '    std = np.where(std == 0, 1.0, std)\n'
       '    return (X_train - mean) / std, (X_test - mean) / std',
       '    mean = X_train.mean(axis=0)\n'
       '    std = X_train.std(axis=0)\n'
       '    std[std == 0] = 1\n'
       '    X_train -= mean\n'
       '    X_train /= std\n'
       '    return X_train, (X_test - mean) / std')],
     'ex08_standardize',
     'wrote into an array it was given'),
    ('no rng',
     'ex08_build_model_answer',
     [('    return bp.Sequential(\n'
       '        bp.Linear(64, 128, init="he_normal", rng=rng), bp.ReLU(),\n'
       '        bp.Linear(128, 64, init="he_normal", rng=rng), bp.ReLU(),\n'
       '        bp.Linear(64, 10, init="he_normal", rng=rng))',
       '    return bp.Sequential(\n'
       '        bp.Linear(64, 128, init="he_normal"), bp.ReLU(),\n'
       '        bp.Linear(128, 64, init="he_normal"), bp.ReLU(),\n'
       '        bp.Linear(64, 10, init="he_normal"))')],
     'ex08_build_model',
     "backproplab's default generator"),
    ('never trained',
     'ex08_model_answer',
     [('    rng = np.random.default_rng(0)\n'
       '    model = bp.Sequential(\n'
       '        bp.Linear(64, 128, init="he_normal", rng=rng), bp.ReLU(),\n'
       '        bp.Linear(128, 64, init="he_normal", rng=rng), bp.ReLU(),\n'
       '        bp.Linear(64, 10, init="he_normal", rng=rng))\n'
       '    optimizer = bp.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)\n'
       '    bp.fit(model, bp.CrossEntropyLoss(), optimizer, (X_train, y_train), epochs=60,\n'
       '           batch_size=32, val_data=(X_val, y_val), early_stopping=10, seed=0, '
       'progress=False)\n'
       '    return model',
       '    rng = np.random.default_rng(0)\n'
       '    model = bp.Sequential(\n'
       '        bp.Linear(64, 128, init="he_normal", rng=rng), bp.ReLU(),\n'
       '        bp.Linear(128, 64, init="he_normal", rng=rng), bp.ReLU(),\n'
       '        bp.Linear(64, 10, init="he_normal", rng=rng))\n'
       '    optimizer = bp.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)\n'
       '    return model')],
     'ex08_model',
     'did not learn'),
    ('1 - 1/(1+e^z) (unstable the other way)',
     'ex01_sigmoid_answer',
     [('    Z = np.asarray(Z, dtype=float)\n'
       '    e = np.exp(-np.abs(Z))  # in (0, 1]: never overflows\n'
       '    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))',
       '    return 1 - 1 / (1 + np.exp(Z))')],
     'ex01_sigmoid',
     'exp overflowed'),
    ('leaky returns alpha, not alpha * Z',
     'ex01_relu_answer',
     [('    return np.where(Z > 0, Z, alpha * Z)', '    return np.where(Z > 0, Z, alpha)')],
     'ex01_relu',
     'alpha'),
    ('sign typo 1 + A',
     'ex01_sigmoid_backward_answer',
     [('    return dA * A * (1 - A)', '    return dA * A * (1 + A)')],
     'ex01_sigmoid_backward',
     '(1 + A)'),
    ('elementwise product',
     'ex01_linear_forward_answer',
     [('    return X @ W + b', '    return X * W + b')],
     'ex01_linear_forward',
     '@'),
    ('W1 @ X',
     'ex01_mlp_forward_answer',
     [('    Z1 = X @ params["W1"] + params["b1"]', '    Z1 = params["W1"] @ X + params["b1"]')],
     'ex01_mlp_forward',
     'wrong order'),
    ('mean over axis 0 only',
     'ex02_mse_answer',
     [('    return float(np.mean((Y_hat - Y) ** 2))',
       '    return np.mean((Y_hat - Y) ** 2, axis=0)')],
     'ex02_mse',
     'axis 0'),
    ('log(P + 1e-12)',
     'ex02_cross_entropy_answer',
     [('    N = len(y)\n'
       '    shifted = Z - Z.max(axis=1, keepdims=True)\n'
       '    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n'
       '    return float(-logp[np.arange(N), y].mean())',
       '    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n'
       '    P = E / E.sum(axis=1, keepdims=True)\n'
       '    return float(-np.mean(np.log(P[np.arange(len(y)), y] + 1e-12)))')],
     'ex02_cross_entropy',
     '1e-12'),
    ('max without keepdims',
     'ex02_softmax_answer',
     [('    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0',
       '    E = np.exp(Z - Z.max(axis=1))')],
     'ex02_softmax',
     'keepdims=True keeps it'),
    ('subtracts 1 everywhere',
     'ex02_cross_entropy_grad_answer',
     [('    G[np.arange(N), y] -= 1  # P - T', '    G -= 1')],
     'ex02_cross_entropy_grad',
     'one-hot'),
    ('/ 2 * h precedence',
     'ex03_central_difference_answer',
     [('    return (f(x + h) - f(x - h)) / (2 * h)',
       '    return (f(x + h) - f(x - h)) / 2 * h')],
     'ex03_central_difference',
     '(2 * h)'),
    ('zeroes after backward',
     'ex03_gd_step_answer',
     [('    w.grad = b.grad = 0.0                                   # backward() adds: start '
       'from 0\n'
       '    preds',
       '    preds'),
      ('    loss.backward()                                         # dL/dw into w.grad, dL/db '
       'into b.grad',
       '    loss.backward()\n    w.grad = b.grad = 0.0')],
     'ex03_gd_step',
     'not updated'),
    ('db keepdims',
     'ex04_linear_backward_answer',
     [('    db = dY.sum(axis=0)      # (H,): b is used by every example',
       '    db = dY.sum(axis=0, keepdims=True)')],
     'ex04_linear_backward',
     'keepdims'),
    ('T[y] = 1',
     'ex04_softmax_ce_backward_answer',
     [('    T[np.arange(N), y] = 1.0', '    T[y] = 1.0')],
     'ex04_softmax_ce_backward',
     'T[np.arange(N), y]'),
    ('db1 wrong axis',
     'ex04_mlp_backward_answer',
     [('    db1 = dZ1.sum(axis=0)                # (H,)', '    db1 = dZ1.sum(axis=1)')],
     'ex04_mlp_backward',
     'axis'),
    ('all entries at once',
     'ex04_numerical_gradient_answer',
     [('    grad = np.zeros(x.shape)\n'
       '    for i in np.ndindex(x.shape):\n'
       '        old = x[i]\n'
       '        x[i] = old + eps\n'
       '        f_plus = f(x)\n'
       '        x[i] = old - eps\n'
       '        f_minus = f(x)\n'
       '        x[i] = old                       # restored exactly\n'
       '        grad[i] = (f_plus - f_minus) / (2 * eps)\n'
       '    return grad',
       '    return np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps))')],
     'ex04_numerical_gradient',
     'at once'),
    ('lr in the velocity, not in the step',
     'ex05_momentum_step_answer',
     [('    if velocity is None:\n'
       '        velocity = grad.copy()\n'
       '    else:\n'
       '        velocity = momentum * velocity + grad\n'
       '    param -= lr * velocity',
       '    if velocity is None:\n'
       '        velocity = np.zeros_like(param)\n'
       '    velocity = momentum * velocity + lr * grad\n'
       '    param -= velocity')],
     'ex05_momentum_step',
     'convention'),
    ('step before backward',
     'ex05_train_epoch_answer',
     [('        optimizer.zero_grad()\n'
       '        model.backward(loss_fn.backward())\n'
       '        optimizer.step()',
       '        optimizer.zero_grad()\n'
       '        optimizer.step()\n'
       '        model.backward(loss_fn.backward())')],
     'ex05_train_epoch',
     'the step sees no gradient'),
    ('batch slice off by one',
     'ex05_train_epoch_answer',
     [('        idx = order[start:start + batch_size]',
       '        idx = order[start:start + batch_size - 1]')],
     'ex05_train_epoch',
     'every example'),
    ('precedence 6 / fan_in + fan_out',
     'ex06_xavier_uniform_answer',
     [('    a = np.sqrt(6.0 / (fan_in + fan_out))', '    a = np.sqrt(6.0 / fan_in + fan_out)')],
     'ex06_xavier_uniform',
     'parenthes'),
    ('sqrt(2) / fan_in',
     'ex06_he_normal_answer',
     [('np.sqrt(2.0 / fan_in)', 'np.sqrt(2.0) / fan_in')],
     'ex06_he_normal',
     'sqrt(2) / fan_in'),
    ('sum of norms as the joint norm',
     'ex06_clip_grad_norm_answer',
     [('    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))',
       '    total = float(sum(np.linalg.norm(g) for g in grads))')],
     'ex06_clip_grad_norm',
     'sum of the'),
    ('count of dead units',
     'ex06_activation_stats_answer',
     [('            stats.append(float(np.mean(np.all(A <= 0, axis=0))))',
       '            stats.append(float(np.sum(np.all(A <= 0, axis=0))))')],
     'ex06_activation_stats',
     'number'),
    ("L1's gradient",
     'ex07_l2_grad_answer',
     [('    return lam * W', '    return lam * np.sign(W)')],
     'ex07_l2_grad',
     'L1'),
    ('best loss instead of best epoch',
     'ex07_early_stopping_answer',
     [('                return epoch, best_epoch', '                return epoch, best_loss'),
      ('    return len(val_losses), best_epoch', '    return len(val_losses), best_loss')],
     'ex07_early_stopping',
     'LOSS'),
    ('one std for all features',
     'ex08_standardize_answer',
     [('    std = X_train.std(axis=0)', '    std = np.full(X_train.shape[1], X_train.std())')],
     'ex08_standardize',
     'one std'),
    ('argmax over axis 0',
     'ex08_accuracy_answer',
     [('        pred = np.argmax(model(X), axis=1)',
       '        pred = np.argmax(model(X), axis=0)')],
     'ex08_accuracy',
     'axis'),
    ('e^z / (1 + e^z)',
     'ex01_sigmoid_answer',
     [('    Z = np.asarray(Z, dtype=float)\n'
       '    e = np.exp(-np.abs(Z))  # in (0, 1]: never overflows\n'
       '    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))',
       '    return np.exp(Z) / (1 + np.exp(Z))')],
     'ex01_sigmoid',
     'exp overflowed'),
    ('builtin max',
     'ex01_relu_answer',
     [('    return np.maximum(Z, 0)', '    return max(Z, 0)')],
     'ex01_relu',
     'np.maximum'),
    ('cache in __call__ only',
     'ex01_my_linear_answer',
     [('        self.cache = X\n', ''),
      ('        return self.forward(X)',
       '        self.cache = X\n        return self.forward(X)')],
     'ex01_my_linear',
     'no layer.cache after forward'),
    ('subtracts the row min',
     'ex02_softmax_answer',
     [('Z - Z.max(axis=1, keepdims=True)', 'Z - Z.min(axis=1, keepdims=True)')],
     'ex02_softmax',
     'max'),
    ('norm squared over rows',
     'ex02_mse_answer',
     [('    return float(np.mean((Y_hat - Y) ** 2))',
       '    return np.linalg.norm(Y_hat - Y) ** 2 / len(Y)')],
     'ex02_mse',
     'rows only'),
    ('-log P summed / N',
     'ex02_cross_entropy_answer',
     [('    N = len(y)\n'
       '    shifted = Z - Z.max(axis=1, keepdims=True)\n'
       '    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n'
       '    return float(-logp[np.arange(N), y].mean())',
       '    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n'
       '    P = E / E.sum(axis=1, keepdims=True)\n'
       '    return -np.log(P[range(len(y)), y]).sum() / len(y)')],
     'ex02_cross_entropy',
     '-log of the softmax'),
    ('returns a set',
     'ex03_topological_sort_answer',
     [('    return order', '    return set(order)')],
     'ex03_topological_sort',
     'expected a list'),
    ('root seeded before the reset',
     'ex03_backward_answer',
     [('    for node in order:\n'
       '        node.grad = 0.0\n'
       '    root.grad = 1.0                              # d root / d root',
       '    root.grad = 1.0\n    for node in order:\n        node.grad = 0.0')],
     'ex03_backward',
     'not set to 1'),
    ('returns dW, dX, db',
     'ex04_linear_backward_answer',
     [('    return dX, dW, db', '    return dW, dX, db')],
     'ex04_linear_backward',
     'order'),
    ('f_minus at x',
     'ex04_numerical_gradient_answer',
     [('        x[i] = old - eps\n        f_minus = f(x)',
       '        x[i] = old\n        f_minus = f(x)')],
     'ex04_numerical_gradient',
     'forward'),
    ('returns param',
     'ex05_momentum_step_answer',
     [('    param -= lr * velocity\n    return velocity',
       '    param -= lr * velocity\n    return param')],
     'ex05_momentum_step',
     'velocity'),
    ('v without the square',
     'ex05_adam_step_answer',
     [('v = beta2 * v + (1 - beta2) * grad * grad', 'v = beta2 * v + (1 - beta2) * grad')],
     'ex05_adam_step',
     'square'),
    ('N // batch_size batches',
     'ex05_train_epoch_answer',
     [('    for start in range(0, N, batch_size):',
       '    for start in range(0, (N // batch_size) * batch_size, batch_size):')],
     'ex05_train_epoch',
     'the last, partial batch dropped'),
    ('shape (fan_out, fan_in)',
     'ex06_he_normal_answer',
     [('size=(fan_in, fan_out)', 'size=(fan_out, fan_in)')],
     'ex06_he_normal',
     'swapped'),
    ('tanh instead of sigmoid',
     'ex06_chain_gradients_answer',
     [('        x.append(1.0 / (1.0 + np.exp(-w * x[-1])))',
       '        x.append(np.tanh(w * x[-1]))'),
      ('g[l] * w * x[l] * (1.0 - x[l])', 'g[l] * w * (1.0 - x[l] ** 2)')],
     'ex06_chain_gradients',
     'sigmoid'),
    ('mask != 0',
     'ex07_dropout_backward_answer',
     [('    return grad_out * mask', '    return grad_out * (mask != 0)')],
     'ex07_dropout_backward',
     'not scaled by 1/(1-p)'),
    ('times 1 - p',
     'ex07_dropout_forward_answer',
     [('    mask = keep / (1 - p)', '    mask = keep * (1 - p)')],
     'ex07_dropout_forward',
     'multiplied by (1-p)'),
    ('eval never restored',
     'ex08_accuracy_answer',
     [('    finally:\n        model.train(was_training)', '    finally:\n        pass')],
     'ex08_accuracy',
     'came back in eval mode'),
]


@pytest.mark.parametrize("case", PLANTED, ids=[f"{c[3]}: {c[0]}" for c in PLANTED])
def test_a_planted_mistake_loses_points_and_is_named(case):
    _, answer, edits, gid, phrase = case
    ex = Exercise(NOTEBOOKS[gid[2:4]])
    nb = ex.notebook()
    target = cell(nb, answer)
    for old, new in edits:
        assert old in target.source, old
        target.source = target.source.replace(old, new)
    namespace = ex.run_answers(nb)
    result, text = check_quietly(gid, *(namespace[n] for n in checked_names(cell(nb, gid))[1]))
    assert result.score < result.max_score, text
    assert any(phrase in t.message for t in result.tests if not t.passed), text
