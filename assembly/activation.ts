// CONTRACT (to be implemented): GELU (tanh approximation) and ReLU; backward adds into dinp.
export function gelu_forward(out: usize, inp: usize, n: i32): void {}
export function gelu_backward(dinp: usize, dout: usize, inp: usize, n: i32): void {}
export function relu_forward(out: usize, inp: usize, n: i32): void {}
export function relu_backward(dinp: usize, dout: usize, out: usize, n: i32): void {}
