"""Pooling: max (a gather at the winners) and average (a fixed linear filter).

Max pooling's backward scatters the gradient to the winning positions; the backward of
that scatter is the gather again, so both stay differentiable. Average pooling is
linear: its backward spreads each gradient evenly over its window, and the backward of
that is average pooling once more.
"""

from __future__ import annotations

from minigrad.autograd import Function


class MaxPool2d(Function):
    """y = max over each window;   dL/dx = dL/dy scattered to each window's argmax"""

    def forward(self, x, kernel_size, stride, padding):
        y, self.argmax = self.backend.max_pool2d(x, kernel_size, stride, padding)
        self.input_hw = x.shape[2:]
        return y

    def backward(self, grad):
        return MaxPoolScatter.apply(grad, argmax=self.argmax, input_hw=self.input_hw)


class MaxPoolScatter(Function):
    """z = zeros with g added at argmax;   dL/dg = dL/dz gathered at argmax"""

    def forward(self, grad_y, argmax, input_hw):
        self.argmax = argmax
        return self.backend.max_pool2d_backward(grad_y, argmax, tuple(input_hw))

    def backward(self, grad):
        return MaxPoolGather.apply(grad, argmax=self.argmax)


class MaxPoolGather(Function):
    """y = g at argmax (per image plane);   dL/dg = dL/dy scattered back to argmax"""

    def forward(self, grad_x, argmax):
        self.argmax, self.input_hw = argmax, grad_x.shape[2:]
        n, c = grad_x.shape[:2]
        planes = grad_x.reshape(n, c, -1)
        picked = self.backend.xp.take_along_axis(planes, argmax.reshape(n, c, -1), axis=2)
        return picked.reshape(argmax.shape)

    def backward(self, grad):
        return MaxPoolScatter.apply(grad, argmax=self.argmax, input_hw=self.input_hw)


class AvgPool2d(Function):
    """y = mean over each window (padding counts);   dL/dx = avg_pool2d_backward(dL/dy)"""

    def forward(self, x, kernel_size, stride, padding):
        self.options = dict(
            input_hw=x.shape[2:], kernel_size=kernel_size, stride=stride, padding=padding
        )
        return self.backend.avg_pool2d(x, kernel_size, stride, padding)

    def backward(self, grad):
        return AvgPoolSpread.apply(grad, **self.options)


class AvgPoolSpread(Function):
    """z = each g spread evenly over its window (the adjoint of average pooling)"""

    def forward(self, grad_y, input_hw, kernel_size, stride, padding):
        self.options = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        return self.backend.avg_pool2d_backward(
            grad_y, tuple(input_hw), kernel_size, stride, padding
        )

    def backward(self, grad):
        return AvgPool2d.apply(grad, **self.options)
