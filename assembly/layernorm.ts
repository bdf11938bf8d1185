// CONTRACT (to be implemented):
// out (n, c) = (inp - mean) * rstd * weight + bias, per row; saves mean (n) and rstd (n) = 1/sqrt(var + eps), biased var.
export function layernorm_forward(out: usize, mean: usize, rstd: usize, inp: usize, weight: usize, bias: usize, n: i32, c: i32, eps: f32): void {}
// dinp (n,c) += ..., dweight (c) += ..., dbias (c) += ...
export function layernorm_backward(dinp: usize, dweight: usize, dbias: usize, dout: usize, inp: usize, weight: usize, mean: usize, rstd: usize, n: i32, c: i32): void {}
