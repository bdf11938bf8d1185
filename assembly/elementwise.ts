// CONTRACT (to be implemented)
export function add_f32(out: usize, a: usize, b: usize, n: i32): void {}
export function mul_f32(out: usize, a: usize, b: usize, n: i32): void {}
export function scale_f32(out: usize, a: usize, s: f32, n: i32): void {}
export function axpy_f32(y: usize, x: usize, alpha: f32, n: i32): void {}
export function fill_f32(out: usize, value: f32, n: i32): void {}
export function copy_f32(out: usize, src: usize, n: i32): void {}
export function colsum_f32(out: usize, inp: usize, rows: i32, cols: i32): void {}
