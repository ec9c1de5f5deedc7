//! Returns: log returns over 1 to 60 bars.

use super::series::lag;
use super::{Columns, Shared};

pub(super) fn columns(s: &Shared, cols: &mut Columns) {
	let (n, ln_c) = (s.n, &s.ln_c);
	for (name, k) in [
		("ret_1", 1),
		("ret_2", 2),
		("ret_3", 3),
		("ret_5", 5),
		("ret_8", 8),
		("ret_10", 10),
		("ret_15", 15),
		("ret_20", 20),
		("ret_30", 30),
		("ret_60", 60),
	] {
		cols.push(name, (0..n).map(|t| ln_c[t] - lag(ln_c, t, k)).collect());
	}
}
