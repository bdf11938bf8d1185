// CONTRACT (to be implemented):
// out (rows, cols) = softmax over each row of scale * inp, where with causal != 0 only the columns
// j <= (r % block) + cols - block are visible (the others give 0). A row with nothing visible, or
// whose visible inputs are all -Infinity, gives all zeros (never NaN).
export function softmax_forward(out: usize, inp: usize, rows: i32, cols: i32, block: i32, scale: f32, causal: i32): void {}
// dinp (rows, cols) += scale * out * (dout - sum_j dout*out)
export function softmax_backward(dinp: usize, dout: usize, out: usize, rows: i32, cols: i32, scale: f32): void {}
