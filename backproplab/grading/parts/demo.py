"""Parts of the demonstration course (tests/fixtures/grading): a sigmoid, the mean squared
error and its gradient, and the backward pass of a linear layer.

Also the worked example for part authors: known inputs, answers computed here by a reference
formula, and the answers of the usual mistakes, so that feedback can name them.
"""

import numpy as np

from ..registry import part

# Small, fixed, non-square inputs: a transposed or broadcast answer then has the wrong shape.
X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
PRED = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
TARGET = np.array([[1.0, -1.0, 0.0], [0.5, 0.5, -0.5]])
INPUTS = np.arange(12.0).reshape(4, 3) / 10  # (N=4, in=3)
WEIGHTS = np.array([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.6]])  # (in=3, out=2)
GRAD_OUT = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0], [-1.5, 0.5]])  # (N=4, out=2)


@part("demo_sigmoid", points=2)
def sigmoid_part(t, sigmoid):
    """the logistic sigmoid"""
    t.close("sigmoid(0) is 0.5", lambda: sigmoid(np.array(0.0)), 0.5)
    t.close("values on a vector", lambda: sigmoid(X), 1 / (1 + np.exp(-X)), mistakes={
        "the sign of the exponent flipped, 1 / (1 + exp(x))": 1 / (1 + np.exp(X)),
        "tanh instead of the sigmoid": np.tanh(X),
    })
    t.close("saturates to 0 and 1 for x = -1000 and 1000",
            lambda: sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
    t.shape("keeps the shape of a (2, 3) input", lambda: sigmoid(np.zeros((2, 3))), (2, 3))


@part("demo_mse", points=1)
def mse_part(t, mse):
    """the mean squared error"""
    diff = PRED - TARGET
    t.close("a (2, 3) batch", lambda: mse(PRED, TARGET), np.mean(diff ** 2), mistakes={
        "the sum instead of the mean": np.sum(diff ** 2),
        "the mean absolute error": np.mean(np.abs(diff)),
        "the squared error halved, as in some textbooks": np.mean(diff ** 2) / 2,
    })
    t.true("is 0 when the prediction is perfect", lambda: mse(TARGET, TARGET) == 0,
           "mse(y, y) should be exactly 0")


@part("demo_mse_grad", points=2)
def mse_grad_part(t, mse_grad):
    """the gradient of the mean squared error"""
    diff = PRED - TARGET
    t.close("dL/dpred on a (2, 3) batch", lambda: mse_grad(PRED, TARGET), 2 * diff / diff.size,
            points=3, mistakes={
                "the gradient without the 1/N of the mean": 2 * diff,
                "the gradient of the wrong sign (target - pred)": -2 * diff / diff.size,
                "the gradient without the factor 2": diff / diff.size,
                "the gradient divided by the batch size only, not by all entries":
                    2 * diff / len(diff),
            })
    t.shape("same shape as pred", lambda: mse_grad(PRED, TARGET), PRED.shape)


@part("demo_linear_grad", points=3)
def linear_grad_part(t, linear_backward):
    """the backward pass of a linear layer y = x @ W"""
    grad_x, grad_w = GRAD_OUT @ WEIGHTS.T, INPUTS.T @ GRAD_OUT
    t.close("dL/dW = x.T @ grad_out", lambda: linear_backward(INPUTS, WEIGHTS, GRAD_OUT)[1],
            grad_w, points=2, mistakes={
                "a transposed weight gradient (grad_out.T @ x instead of x.T @ grad_out)":
                    grad_w.T,
                "the weight gradient averaged over the batch": grad_w / len(INPUTS),
            })
    t.close("dL/dx = grad_out @ W.T", lambda: linear_backward(INPUTS, WEIGHTS, GRAD_OUT)[0],
            grad_x, mistakes={"the weight gradient returned as dL/dx": grad_w})
