// A C++ workload for demangling: app::Matrix::sum(int) const does the work,
// called through a template and an operator, so the names need demangling.
#include <chrono>
#include <cstdlib>
#include <vector>

namespace app {

class Matrix {
public:
	explicit Matrix(int n) : v_(n * n, 1.0), n_(n) {}
	__attribute__((noinline)) double sum(int rounds) const
	{
		double s = 0;

		for (int r = 0; r < rounds; r++)
			for (double x : v_)
				s += x * r;
		return s;
	}

private:
	std::vector<double> v_;
	int n_;
};

template <typename T> __attribute__((noinline)) double run(const T &m, double seconds)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
	double s = 0;

	while (std::chrono::steady_clock::now() < end)
		s += m.sum(20);
	return s;
}

} // namespace app

int main(int argc, char **argv)
{
	app::Matrix m(64);

	return app::run(m, argc > 1 ? atof(argv[1]) : 2) < 0;
}
