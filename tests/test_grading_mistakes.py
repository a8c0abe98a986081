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

# (what the student wrote, answer cell, part, phrase, [(solution text, student's text)])
PLANTED = [
    ("clips its input in place first", "ex01_sigmoid_answer", "ex01_sigmoid",
     "wrote into an array it was given",
     [("    Z = np.asarray(Z, dtype=float)\n"
        "    e = np.exp(-np.abs(Z))  # in (0, 1]: never overflows\n"
        "    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))",
       "    Z[Z < -500] = -500\n"
       "    return 1 / (1 + np.exp(-Z))")]),
    ("relu in place", "ex01_relu_answer", "ex01_relu", "wrote into an array it was given",
     [("    return np.maximum(Z, 0)",
       "    Z[Z < 0] = 0\n"
       "    return Z")]),
    ("leaky relu in place", "ex01_relu_answer", "ex01_relu", "wrote into an array it was given",
     [("    return np.where(Z > 0, Z, alpha * Z)",
       "    Z[Z < 0] *= alpha\n"
       "    return Z")]),
    ("dA scaled in place", "ex01_sigmoid_backward_answer", "ex01_sigmoid_backward",
     "wrote into an array it was given",
     [("    return dA * A * (1 - A)",
       "    dA *= A * (1 - A)\n"
       "    return dA")]),
    ("its own seeded generator", "ex01_my_linear_answer", "ex01_my_linear", "another seed",
     [("        rng = np.random.default_rng() if rng is None else rng",
       "        rng = np.random.default_rng(0)")]),
    ("in place on Y_hat", "ex02_mse_grad_answer", "ex02_mse_grad",
     "wrote into an array it was given",
     [("    return 2 * (Y_hat - Y) / Y_hat.size",
       "    Y_hat -= Y\n"
       "    return 2 * Y_hat / Y_hat.size")]),
    ("in place", "ex02_softmax_answer", "ex02_softmax", "wrote into an array it was given",
     [("    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0\n"
        "    return E / E.sum(axis=1, keepdims=True)",
       "    Z -= Z.max(axis=1, keepdims=True)\n"
       "    np.exp(Z, out=Z)\n"
       "    Z /= Z.sum(axis=1, keepdims=True)\n"
       "    return Z")]),
    ("keepdims forgotten in the sum", "ex02_softmax_answer", "ex02_softmax",
     "keepdims=True keeps it",
     [("    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0\n"
        "    return E / E.sum(axis=1, keepdims=True)",
       "    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
       "    return E / E.sum(axis=1)")]),
    ("shifts Z in place", "ex02_cross_entropy_grad_answer", "ex02_cross_entropy_grad",
     "wrote into an array it was given",
     [("    E = np.exp(Z - Z.max(axis=1, keepdims=True))",
       "    Z -= Z.max(axis=1, keepdims=True)\n"
       "    E = np.exp(Z)")]),
    ("reverses the caller's list", "ex03_backward_answer", "ex03_backward",
     "changed its second argument (order) in place",
     [("    for node in reversed(order):                 # every consumer before the no"
        "des it uses",
       "    order.reverse()\n"
       "    for node in order:                 # every consumer before the nodes it uses")]),
    ("CS231n aliasing: dZ = dA then mask", "ex04_relu_backward_answer", "ex04_relu_backward",
     "wrote into an array it was given",
     [("    return dA * (Z > 0)      # the mask from the forward pass; 0 at the kink",
       "    dZ = dA\n"
       "    dZ[Z <= 0] = 0\n"
       "    return dZ")]),
    ("in place", "ex04_sigmoid_backward_answer", "ex04_sigmoid_backward",
     "wrote into an array it was given",
     [("    return dA * A * (1 - A)",
       "    dA *= A * (1 - A)\n"
       "    return dA")]),
    ("in place shift", "ex04_softmax_ce_backward_answer", "ex04_softmax_ce_backward",
     "wrote into an array it was given",
     [("    E = np.exp(Z - Z.max(axis=1, keepdims=True))    # stable: every exponent <= 0",
       "    Z -= Z.max(axis=1, keepdims=True)\n"
       "    E = np.exp(Z)    # stable: every exponent <= 0")]),
    ("masks the cache in place", "ex04_backward_layers_answer", "ex04_backward_layers",
     "wrote into an array it was given",
     [("            dZ = dA * (Z[l - 1] > 0)             # the ReLU mask of layer l - 1",
       "            Z[l - 1][Z[l - 1] < 0] = 0\n"
       "            dZ = dA * (Z[l - 1] > 0)")]),
    ("scales the gradients in place", "ex05_sgd_step_answer", "ex05_sgd_step",
     "wrote into an array it was given",
     [("        p -= lr * g",
       "        g *= lr\n"
       "        p -= g")]),
    ("sign-flipped momentum", "ex05_momentum_step_answer", "ex05_momentum_step", "sign",
     [("        velocity = momentum * velocity + grad",
       "        velocity = momentum * velocity - grad")]),
    ("lr inside the velocity too", "ex05_momentum_step_answer", "ex05_momentum_step",
     "learning rate",
     [("        velocity = grad.copy()\n"
        "    else:\n"
        "        velocity = momentum * velocity + grad",
       "        velocity = lr * grad\n"
       "    else:\n"
       "        velocity = momentum * velocity + lr * grad")]),
    ("grad changed in place", "ex05_momentum_step_answer", "ex05_momentum_step",
     "wrote into an array it was given",
     [("        velocity = grad.copy()\n"
        "    else:\n"
        "        velocity = momentum * velocity + grad\n"
        "    param -= lr * velocity\n"
        "    return velocity",
       "        velocity = np.zeros_like(param)\n"
       "    grad += momentum * velocity\n"
       "    param -= lr * grad\n"
       "    return grad")]),
    ("typo beta1 * t", "ex05_adam_step_answer", "ex05_adam_step", "1 - beta1 * t",
     [("    m_hat = m / (1 - beta1 ** t)",
       "    m_hat = m / (1 - beta1 * t)")]),
    ("typo beta2 in m_hat", "ex05_adam_step_answer", "ex05_adam_step", "beta2",
     [("    m_hat = m / (1 - beta1 ** t)",
       "    m_hat = m / (1 - beta2 ** t)")]),
    ("typo beta1 in v_hat", "ex05_adam_step_answer", "ex05_adam_step", "beta1",
     [("    v_hat = v / (1 - beta2 ** t)",
       "    v_hat = v / (1 - beta1 ** t)")]),
    ("returns corrected moments", "ex05_adam_step_answer", "ex05_adam_step", "corrected",
     [("    return m, v, t",
       "    return m_hat, v_hat, t")]),
    ("no square root", "ex05_adam_step_answer", "ex05_adam_step", "square root",
     [("    param -= lr * m_hat / (np.sqrt(v_hat) + eps)",
       "    param -= lr * m_hat / (v_hat + eps)")]),
    ("rebinds param", "ex05_adam_step_answer", "ex05_adam_step", "a new array",
     [("    param -= lr * m_hat / (np.sqrt(v_hat) + eps)",
       "    param = param - lr * m_hat / (np.sqrt(v_hat) + eps)")]),
    ("np.random.permutation", "ex05_train_epoch_answer", "ex05_train_epoch",
     "NumPy's global generator",
     [("    order = rng.permutation(N)",
       "    order = np.random.permutation(N)")]),
    ("shuffles X in place", "ex05_train_epoch_answer", "ex05_train_epoch",
     "wrote into an array it was given",
     [("    order = rng.permutation(N)",
       "    rng.shuffle(X)\n"
       "    order = np.arange(N)")]),
    ("a new permutation per batch", "ex05_train_epoch_answer", "ex05_train_epoch", "permutation",
     [("    order = rng.permutation(N)\n"
        "    total = 0.0\n"
        "    for start in range(0, N, batch_size):\n"
        "        idx = order[start:start + batch_size]",
       "    total = 0.0\n"
       "    for start in range(0, N, batch_size):\n"
       "        idx = rng.permutation(N)[:batch_size] if start + batch_size <= N else rn"
       "g.permutation(N)[:N - start]")]),
    ("unseeded generator", "ex05_train_epoch_answer", "ex05_train_epoch",
     "the same rng, in the same state, gave a different result",
     [("    order = rng.permutation(N)",
       "    order = np.random.default_rng().permutation(N)")]),
    ("Frobenius norm for the spectral one", "ex05_max_stable_lr_answer", "ex05_max_stable_lr",
     "Frobenius",
     [("    return float(2 / np.linalg.eigvalsh(A)[-1])",
       "    return 2 / np.linalg.norm(A)")]),
    ("np.random.uniform", "ex06_xavier_uniform_answer", "ex06_xavier_uniform",
     "NumPy's global generator",
     [("    return rng.uniform(-a, a, size=(fan_in, fan_out))",
       "    return np.random.uniform(-a, a, size=(fan_in, fan_out))")]),
    ("own seed", "ex06_xavier_uniform_answer", "ex06_xavier_uniform", "another seed",
     [("    return rng.uniform(-a, a, size=(fan_in, fan_out))",
       "    return np.random.default_rng(42).uniform(-a, a, size=(fan_in, fan_out))")]),
    ("normal with Xavier's variance", "ex06_xavier_uniform_answer", "ex06_xavier_uniform", "normal",
     [("    a = np.sqrt(6.0 / (fan_in + fan_out))\n"
        "    return rng.uniform(-a, a, size=(fan_in, fan_out))",
       "    return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))")]),
    ("np.random.randn", "ex06_he_normal_answer", "ex06_he_normal", "NumPy's global generator",
     [("    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))",
       "    return np.random.randn(fan_in, fan_out) * np.sqrt(2 / fan_in)")]),
    ("unseeded generator", "ex06_he_normal_answer", "ex06_he_normal",
     "the same rng, in the same state, gave a different result",
     [("    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))",
       "    return np.random.default_rng().normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_"
       "in, fan_out))")]),
    ("spectral norm", "ex06_layer_grad_norms_answer", "ex06_layer_grad_norms", "spectral",
     [("    return [float(np.linalg.norm(layer.W.grad))",
       "    return [float(np.linalg.norm(layer.W.grad, 2))")]),
    ("in place", "ex07_l2_grad_answer", "ex07_l2_grad", "wrote into an array it was given",
     [("    return lam * W",
       "    W *= lam\n"
       "    return W")]),
    ("eval still draws", "ex07_dropout_forward_answer", "ex07_dropout_forward", "drew from rng",
     [("    if not train:\n"
        "        return x, np.ones_like(x)\n"
        "    keep = rng.random(x.shape) >= p",
       "    keep = rng.random(x.shape) >= p\n"
       "    if not train:\n"
       "        return x, np.ones_like(x)")]),
    ("np.random.rand", "ex07_dropout_forward_answer", "ex07_dropout_forward",
     "NumPy's global generator",
     [("        return x, np.ones_like(x)\n"
        "    keep = rng.random(x.shape) >= p",
       "        return x, np.ones_like(x)\n"
       "    keep = np.random.rand(*x.shape) >= p")]),
    ("binomial mask", "ex07_dropout_forward_answer", "ex07_dropout_forward", "binomial",
     [("        return x, np.ones_like(x)\n"
        "    keep = rng.random(x.shape) >= p",
       "        return x, np.ones_like(x)\n"
       "    keep = rng.binomial(1, 1 - p, size=x.shape)")]),
    ("in place", "ex07_dropout_backward_answer", "ex07_dropout_backward",
     "wrote into an array it was given",
     [("    return grad_out * mask",
       "    grad_out *= mask\n"
       "    return grad_out")]),
    ("counter never reset", "ex07_early_stopping_answer", "ex07_early_stopping", "never reset",
     [("            best_loss, best_epoch, waited = loss, epoch, 0",
       "            best_loss, best_epoch = loss, epoch")]),
    ("sorts the caller's list", "ex07_early_stopping_answer", "ex07_early_stopping",
     "changed its first argument",
     [("    best_loss, best_epoch, waited = np.inf, None, 0",
       "    best = min(val_losses)\n"
       "    val_losses.sort()\n"
       "    best_loss, best_epoch, waited = np.inf, None, 0")]),
    ("std + 1e-8", "ex08_standardize_answer", "ex08_standardize", "1e-8",
     [("    std = X_train.std(axis=0)\n"
        "    std = np.where(std == 0, 1.0, std)",
       "    std = X_train.std(axis=0) + 1e-8")]),
    ("in place on X_train", "ex08_standardize_answer", "ex08_standardize",
     "wrote into an array it was given",
     [("    std = np.where(std == 0, 1.0, std)\n"
        "    return (X_train - mean) / std, (X_test - mean) / std",
       "    std[std == 0] = 1\n"
       "    X_train -= mean\n"
       "    X_train /= std\n"
       "    return X_train, (X_test - mean) / std")]),
    ("no rng", "ex08_build_model_answer", "ex08_build_model", "backproplab's default generator",
     [('        bp.Linear(64, 128, init="he_normal", rng=rng), bp.ReLU(),\n'
        '        bp.Linear(128, 64, init="he_normal", rng=rng), bp.ReLU(),\n'
        '        bp.Linear(64, 10, init="he_normal", rng=rng))',
       '        bp.Linear(64, 128, init="he_normal"), bp.ReLU(),\n'
       '        bp.Linear(128, 64, init="he_normal"), bp.ReLU(),\n'
       '        bp.Linear(64, 10, init="he_normal"))')]),
    ("never trained", "ex08_model_answer", "ex08_model", "did not learn",
     [("    bp.fit(model, bp.CrossEntropyLoss(), optimizer, (X_train, y_train), epochs=60,\n"
        "           batch_size=32, val_data=(X_val, y_val), early_stopping=10, seed=0, p"
        "rogress=False)\n"
        "    return model",
       "    return model")]),
    ("1 - 1/(1+e^z) (unstable the other way)", "ex01_sigmoid_answer", "ex01_sigmoid",
     "exp overflowed",
     [("    Z = np.asarray(Z, dtype=float)\n"
        "    e = np.exp(-np.abs(Z))  # in (0, 1]: never overflows\n"
        "    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))",
       "    return 1 - 1 / (1 + np.exp(Z))")]),
    ("leaky returns alpha, not alpha * Z", "ex01_relu_answer", "ex01_relu", "alpha",
     [("    return np.where(Z > 0, Z, alpha * Z)",
       "    return np.where(Z > 0, Z, alpha)")]),
    ("sign typo 1 + A", "ex01_sigmoid_backward_answer", "ex01_sigmoid_backward", "(1 + A)",
     [("    return dA * A * (1 - A)",
       "    return dA * A * (1 + A)")]),
    ("elementwise product", "ex01_linear_forward_answer", "ex01_linear_forward", "@",
     [("    return X @ W + b",
       "    return X * W + b")]),
    ("W1 @ X", "ex01_mlp_forward_answer", "ex01_mlp_forward", "wrong order",
     [('    Z1 = X @ params["W1"] + params["b1"]',
       '    Z1 = params["W1"] @ X + params["b1"]')]),
    ("mean over axis 0 only", "ex02_mse_answer", "ex02_mse", "axis 0",
     [("    return float(np.mean((Y_hat - Y) ** 2))",
       "    return np.mean((Y_hat - Y) ** 2, axis=0)")]),
    ("log(P + 1e-12)", "ex02_cross_entropy_answer", "ex02_cross_entropy", "1e-12",
     [("    N = len(y)\n"
        "    shifted = Z - Z.max(axis=1, keepdims=True)\n"
        "    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
        "    return float(-logp[np.arange(N), y].mean())",
       "    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
       "    P = E / E.sum(axis=1, keepdims=True)\n"
       "    return float(-np.mean(np.log(P[np.arange(len(y)), y] + 1e-12)))")]),
    ("max without keepdims", "ex02_softmax_answer", "ex02_softmax", "keepdims=True keeps it",
     [("    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # every exponent <= 0",
       "    E = np.exp(Z - Z.max(axis=1))")]),
    ("subtracts 1 everywhere", "ex02_cross_entropy_grad_answer", "ex02_cross_entropy_grad",
     "one-hot",
     [("    G[np.arange(N), y] -= 1  # P - T",
       "    G -= 1")]),
    ("/ 2 * h precedence", "ex03_central_difference_answer", "ex03_central_difference", "(2 * h)",
     [("    return (f(x + h) - f(x - h)) / (2 * h)",
       "    return (f(x + h) - f(x - h)) / 2 * h")]),
    ("zeroes after backward", "ex03_gd_step_answer", "ex03_gd_step", "not updated",
     [("    w.grad = b.grad = 0.0                                   # backward() adds: "
        "start from 0\n"
        "    preds",
       "    preds"),
      ("    loss.backward()                                         # dL/dw into w.grad"
        ", dL/db into b.grad",
       "    loss.backward()\n"
       "    w.grad = b.grad = 0.0")]),
    ("db keepdims", "ex04_linear_backward_answer", "ex04_linear_backward", "keepdims",
     [("    db = dZ.sum(axis=0)      # (H,): b is used by every example",
       "    db = dZ.sum(axis=0, keepdims=True)")]),
    ("T[y] = 1", "ex04_softmax_ce_backward_answer", "ex04_softmax_ce_backward",
     "T[np.arange(N), y]",
     [("    T[np.arange(N), y] = 1.0",
       "    T[y] = 1.0")]),
    ("all entries at once", "ex04_numerical_gradient_answer", "ex04_numerical_gradient", "at once",
     [("    grad = np.zeros(x.shape)\n"
        "    for i in np.ndindex(x.shape):\n"
        "        old = x[i]\n"
        "        x[i] = old + eps\n"
        "        f_plus = f(x)\n"
        "        x[i] = old - eps\n"
        "        f_minus = f(x)\n"
        "        x[i] = old                       # restored exactly\n"
        "        grad[i] = (f_plus - f_minus) / (2 * eps)\n"
        "    return grad",
       "    return np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps))")]),
    ("lr in the velocity, not in the step", "ex05_momentum_step_answer", "ex05_momentum_step",
     "convention",
     [("        velocity = grad.copy()\n"
        "    else:\n"
        "        velocity = momentum * velocity + grad\n"
        "    param -= lr * velocity",
       "        velocity = np.zeros_like(param)\n"
       "    velocity = momentum * velocity + lr * grad\n"
       "    param -= velocity")]),
    ("step before backward", "ex05_train_epoch_answer", "ex05_train_epoch",
     "the step sees no gradient",
     [("        model.backward(loss_fn.backward())\n"
        "        optimizer.step()",
       "        optimizer.step()\n"
       "        model.backward(loss_fn.backward())")]),
    ("batch slice off by one", "ex05_train_epoch_answer", "ex05_train_epoch", "every example",
     [("        idx = order[start:start + batch_size]",
       "        idx = order[start:start + batch_size - 1]")]),
    ("precedence 6 / fan_in + fan_out", "ex06_xavier_uniform_answer", "ex06_xavier_uniform",
     "parenthes",
     [("    a = np.sqrt(6.0 / (fan_in + fan_out))",
       "    a = np.sqrt(6.0 / fan_in + fan_out)")]),
    ("sqrt(2) / fan_in", "ex06_he_normal_answer", "ex06_he_normal", "sqrt(2) / fan_in",
     [("np.sqrt(2.0 / fan_in)",
       "np.sqrt(2.0) / fan_in")]),
    ("sum of norms as the joint norm", "ex06_clip_grad_norm_answer", "ex06_clip_grad_norm",
     "sum of the",
     [("    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))",
       "    total = float(sum(np.linalg.norm(g) for g in grads))")]),
    ("count of dead units", "ex06_activation_stats_answer", "ex06_activation_stats", "number",
     [("            stats.append(float(np.mean(np.all(A <= 0, axis=0))))",
       "            stats.append(float(np.sum(np.all(A <= 0, axis=0))))")]),
    ("L1's gradient", "ex07_l2_grad_answer", "ex07_l2_grad", "L1",
     [("    return lam * W",
       "    return lam * np.sign(W)")]),
    ("best loss instead of best epoch", "ex07_early_stopping_answer", "ex07_early_stopping", "LOSS",
     [("                return epoch, best_epoch",
       "                return epoch, best_loss"),
      ("    return len(val_losses), best_epoch",
       "    return len(val_losses), best_loss")]),
    ("one std for all features", "ex08_standardize_answer", "ex08_standardize", "one std",
     [("    std = X_train.std(axis=0)",
       "    std = np.full(X_train.shape[1], X_train.std())")]),
    ("argmax over axis 0", "ex08_accuracy_answer", "ex08_accuracy", "axis",
     [("        pred = np.argmax(model(X), axis=1)",
       "        pred = np.argmax(model(X), axis=0)")]),
    ("e^z / (1 + e^z)", "ex01_sigmoid_answer", "ex01_sigmoid", "exp overflowed",
     [("    Z = np.asarray(Z, dtype=float)\n"
        "    e = np.exp(-np.abs(Z))  # in (0, 1]: never overflows\n"
        "    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))",
       "    return np.exp(Z) / (1 + np.exp(Z))")]),
    ("builtin max", "ex01_relu_answer", "ex01_relu", "np.maximum",
     [("    return np.maximum(Z, 0)",
       "    return max(Z, 0)")]),
    ("cache in __call__ only", "ex01_my_linear_answer", "ex01_my_linear",
     "no layer.cache after forward",
     [("        self.cache = X\n",
       ""),
      ("        return self.forward(X)",
       "        self.cache = X\n"
       "        return self.forward(X)")]),
    ("subtracts the row min", "ex02_softmax_answer", "ex02_softmax", "max",
     [("Z - Z.max(axis=1, keepdims=True)",
       "Z - Z.min(axis=1, keepdims=True)")]),
    ("norm squared over rows", "ex02_mse_answer", "ex02_mse", "rows only",
     [("    return float(np.mean((Y_hat - Y) ** 2))",
       "    return np.linalg.norm(Y_hat - Y) ** 2 / len(Y)")]),
    ("-log P summed / N", "ex02_cross_entropy_answer", "ex02_cross_entropy", "-log of the softmax",
     [("    N = len(y)\n"
        "    shifted = Z - Z.max(axis=1, keepdims=True)\n"
        "    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
        "    return float(-logp[np.arange(N), y].mean())",
       "    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
       "    P = E / E.sum(axis=1, keepdims=True)\n"
       "    return -np.log(P[range(len(y)), y]).sum() / len(y)")]),
    ("returns a set", "ex03_topological_sort_answer", "ex03_topological_sort", "expected a list",
     [("    return order",
       "    return set(order)")]),
    ("root seeded before the reset", "ex03_backward_answer", "ex03_backward", "not set to 1",
     [("    for node in order:\n"
        "        node.grad = 0.0\n"
        "    root.grad = 1.0                              # d root / d root",
       "    root.grad = 1.0\n"
       "    for node in order:\n"
       "        node.grad = 0.0")]),
    ("returns dW, dX, db", "ex04_linear_backward_answer", "ex04_linear_backward", "order",
     [("    return dX, dW, db",
       "    return dW, dX, db")]),
    ("f_minus at x", "ex04_numerical_gradient_answer", "ex04_numerical_gradient", "forward",
     [("        x[i] = old - eps",
       "        x[i] = old")]),
    ("returns param", "ex05_momentum_step_answer", "ex05_momentum_step", "velocity",
     [("    return velocity",
       "    return param")]),
    ("v without the square", "ex05_adam_step_answer", "ex05_adam_step", "square",
     [("v = beta2 * v + (1 - beta2) * grad * grad",
       "v = beta2 * v + (1 - beta2) * grad")]),
    ("N // batch_size batches", "ex05_train_epoch_answer", "ex05_train_epoch",
     "the last, partial batch dropped",
     [("    for start in range(0, N, batch_size):",
       "    for start in range(0, (N // batch_size) * batch_size, batch_size):")]),
    ("shape (fan_out, fan_in)", "ex06_he_normal_answer", "ex06_he_normal", "swapped",
     [("size=(fan_in, fan_out)",
       "size=(fan_out, fan_in)")]),
    ("tanh instead of sigmoid", "ex06_chain_gradients_answer", "ex06_chain_gradients", "sigmoid",
     [("        x.append(1.0 / (1.0 + np.exp(-w * x[-1])))",
       "        x.append(np.tanh(w * x[-1]))"),
      ("g[l] * w * x[l] * (1.0 - x[l])",
       "g[l] * w * (1.0 - x[l] ** 2)")]),
    ("mask != 0", "ex07_dropout_backward_answer", "ex07_dropout_backward", "not scaled by 1/(1-p)",
     [("    return grad_out * mask",
       "    return grad_out * (mask != 0)")]),
    ("times 1 - p", "ex07_dropout_forward_answer", "ex07_dropout_forward", "multiplied by (1-p)",
     [("    mask = keep / (1 - p)",
       "    mask = keep * (1 - p)")]),
    ("eval never restored", "ex08_accuracy_answer", "ex08_accuracy", "came back in eval mode",
     [("        model.train(was_training)",
       "        pass")]),
]


@pytest.mark.parametrize("case", PLANTED, ids=[f"{c[2]}: {c[0]}" for c in PLANTED])
def test_a_planted_mistake_loses_points_and_is_named(case):
    _, answer, gid, phrase, edits = case
    ex = Exercise(NOTEBOOKS[gid[2:4]])
    nb = ex.notebook()
    target = cell(nb, answer)
    for old, new in edits:
        assert old in target.source, old
        target.source = target.source.replace(old, new)
    namespace = ex.run_answers(nb)
    result, text = check_quietly(gid, *(namespace[n] for n in checked_names(cell(nb, gid))[1]))
    assert result.score < result.max_score, text
    # named on the failing test's line: in its message, or in a note on a NumPy warning (NumPy
    # 1.x warns where NumPy 2 raises, e.g. about comparing arrays of different shapes)
    assert any(phrase in t.message or any(phrase in n for n in t.notes)
               for t in result.tests if not t.passed), text
