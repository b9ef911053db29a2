"""Convolution as a closed triangle of three bilinear operations.

    conv2d(x, w)                 y[n,o] = Σ_c w[o,c] ⋆ x[n,c]   (cross-correlation)
    conv2d_input_grad(g, w)      = conv_transpose2d(g, w): the adjoint in x
    conv2d_weight_grad(x, g)     = the adjoint in w

Each one's backward is made of the other two, so second derivatives flow through
convolutions too. The DCGAN generator's upsampling layer (``conv_transpose2d``) is
literally the discriminator's backward pass with respect to its input.

When the backward itself is not recorded (no ``create_graph``), the two gradients of a
conv or a transposed conv come from one backend call (``conv2d_backward``,
``conv_transpose2d_backward``) that prepares the incoming gradient once for both
products; the results are the same as the two nodes'.
"""

from __future__ import annotations

from minigrad.autograd import Function, is_grad_enabled
from minigrad.tensor import Tensor


def _tensors(arrays, like: Tensor) -> tuple[Tensor | None, ...]:
    return tuple(None if a is None else Tensor._make(a, like.device, False) for a in arrays)


class Conv2d(Function):
    """y = x ⋆ w;   dL/dx = conv_transpose2d(dL/dy, w),   dL/dw = weight_grad(x, dL/dy)"""

    save_inputs = True

    def forward(self, x, w, stride, padding, keep_columns=False):
        self.stride, self.padding, self.columns = stride, padding, None
        if keep_columns:  # the weight gradient will need x's im2col: keep it from here
            y, self.columns = self.backend.conv2d_forward(x, w, stride, padding, keep_columns=True)
            return y
        return self.backend.conv2d_forward(x, w, stride, padding)

    def backward(self, grad):
        x, w = self.saved_inputs
        if not is_grad_enabled():
            arrays = self.backend.conv2d_backward(
                x._data,
                w._data,
                grad._data,
                self.stride,
                self.padding,
                *self.needs_input_grad,
                columns=self.columns,
            )
            return _tensors(arrays, grad)
        grad_x = grad_w = None
        if self.needs_input_grad[0]:
            grad_x = ConvInputGrad.apply(
                grad, w, input_hw=x.shape[2:], stride=self.stride, padding=self.padding
            )
        if self.needs_input_grad[1]:
            grad_w = ConvWeightGrad.apply(
                x, grad, kernel_hw=w.shape[2:], stride=self.stride, padding=self.padding
            )
        return grad_x, grad_w


class ConvInputGrad(Function):
    """z = conv_transpose2d(g, w), the adjoint of x ↦ x ⋆ w.

    Bilinear in (g, w), with <z, H> = <g, H ⋆ w>, so
    dL/dg = H ⋆ w (a conv2d)   and   dL/dw = weight_grad(H, g).
    """

    save_inputs = True

    def forward(self, grad_y, w, input_hw, stride, padding):
        self.stride, self.padding = stride, padding
        return self.backend.conv2d_input_grad(grad_y, w, tuple(input_hw), stride, padding)

    def backward(self, grad):
        grad_y, w = self.saved_inputs
        if not is_grad_enabled():
            arrays = self.backend.conv_transpose2d_backward(
                grad_y._data, w._data, grad._data, self.stride, self.padding, *self.needs_input_grad
            )
            return _tensors(arrays, grad)
        d_grad_y = d_w = None
        if self.needs_input_grad[0]:
            d_grad_y = Conv2d.apply(grad, w, stride=self.stride, padding=self.padding)
        if self.needs_input_grad[1]:
            d_w = ConvWeightGrad.apply(
                grad, grad_y, kernel_hw=w.shape[2:], stride=self.stride, padding=self.padding
            )
        return d_grad_y, d_w


class ConvWeightGrad(Function):
    """z = weight_grad(x, g), the adjoint of w ↦ x ⋆ w.

    Bilinear in (x, g), with <z, H> = <x ⋆ H, g>, so
    dL/dx = conv_transpose2d(g, H)   and   dL/dg = x ⋆ H (a conv2d).
    """

    save_inputs = True

    def forward(self, x, grad_y, kernel_hw, stride, padding):
        self.stride, self.padding = stride, padding
        return self.backend.conv2d_weight_grad(x, grad_y, tuple(kernel_hw), stride, padding)

    def backward(self, grad):
        x, grad_y = self.saved_inputs
        d_x = d_grad_y = None
        if self.needs_input_grad[0]:
            d_x = ConvInputGrad.apply(
                grad_y, grad, input_hw=x.shape[2:], stride=self.stride, padding=self.padding
            )
        if self.needs_input_grad[1]:
            d_grad_y = Conv2d.apply(x, grad, stride=self.stride, padding=self.padding)
        return d_x, d_grad_y
