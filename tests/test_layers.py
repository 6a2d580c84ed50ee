"""The shared dense-layer arithmetic against the plain expressions it replaces."""

import pytest
import torch

from hight_lite.layers import affine, relu_backward, rowwise_dot


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("seeds", [None, 1, 3])
def test_affine_is_the_product_plus_the_bias(seeds):
    lead = () if seeds is None else (seeds,)
    x = torch.randn(*lead, 7, 5, generator=gen(0), dtype=torch.float64)
    w = torch.randn(*lead, 4, 5, generator=gen(1), dtype=torch.float64)
    b = torch.randn(*lead, 4, generator=gen(2), dtype=torch.float64)
    torch.testing.assert_close(affine(x, w, b), x @ w.mT + b.unsqueeze(-2))


def test_affine_broadcasts_one_network_over_several_inputs():
    x = torch.randn(3, 7, 5, generator=gen(0))
    w, b = torch.randn(4, 5, generator=gen(1)), torch.randn(4, generator=gen(2))
    out = affine(x, w, b)
    assert out.shape == (3, 7, 4)
    torch.testing.assert_close(out[1], x[1] @ w.T + b)


def test_relu_backward_masks_where_the_activation_is_zero():
    pre = torch.randn(2, 50, 6, generator=gen(3))
    grad = torch.randn(2, 50, 6, generator=gen(4))
    h = torch.relu(pre)
    expected = grad * (pre > 0)
    assert torch.equal(relu_backward(grad, h), expected)
    # the same as autograd's ReLU backward
    leaf = pre.clone().requires_grad_()
    torch.relu(leaf).backward(grad)
    assert torch.equal(relu_backward(grad, h), leaf.grad)


def test_rowwise_dot_is_a_matrix_vector_product():
    m = torch.randn(3, 8, 5, generator=gen(5), dtype=torch.float64)
    v = torch.randn(3, 5, generator=gen(6), dtype=torch.float64)
    torch.testing.assert_close(rowwise_dot(m, v), (m @ v.unsqueeze(-1)).squeeze(-1))
