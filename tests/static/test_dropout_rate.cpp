// Compile-time-only tests: the two spellings of a Dropout rate. Compiling this file is passing.
// Built twice (see meson.build): as the compiler is, and with -DCTNN_FLOAT_TEMPLATE_ARGS=0, the
// path taken by compilers without floating-point template arguments (clang++ before 18).
#include <ratio>
#include <type_traits>

#include <ctnn/ctnn.hpp>

using namespace ctnn;

// The portable spelling: a ratio value, by the helper or by std::ratio itself.
using Ratio = Dropout<std::ratio<9, 10>{}>::bind<Shape<500>>;
static_assert(std::is_same_v<Dropout<rate<9, 10>>::bind<Shape<500>>, Ratio>);
static_assert(std::is_same_v<Dropout<std::ratio<18, 20>{}>::bind<Shape<500>>, Ratio>);  // one type per rate, reduced
static_assert(Layer<Ratio> && LayerSpec<Dropout<rate<9, 10>>> && BindableLayerSpec<Dropout<rate<9, 10>>>);
static_assert(!Layer<Dropout<rate<9, 10>>>);  // unsized spec: Sequential binds it to a size
static_assert(Ratio::rate == 0.9 && static_cast<float>(Ratio::rate) == 0.9f && Ratio::scale == 10.0f);
static_assert(Ratio::kind == "dropout" && Ratio::type_name == "Dropout" && Ratio::param_count == 0);
static_assert(Dropout<rate<0>>::bind<Shape<3>>::rate == 0.0 && Dropout<0>::bind<Shape<3>>::rate == 0.0);  // rate 0: identity
static_assert(Dropout<rate<1, 3>>::rate == 1.0 / 3.0);

// The seed's network in the portable spelling.
struct Portable : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<rate<9, 10>>, Dense<500, 10, Softmax>> {};
static_assert(Portable::param_count == 1'290'510 && Portable::layer_count == 4);
static_assert(std::is_same_v<Portable::layer_type<2>, Ratio>);

#if CTNN_FLOAT_TEMPLATE_ARGS
// Where the compiler takes double template arguments, both spellings are the same layer type, so
// everything about the layer (rate, Keras name, summary, weights files) is the same.
static_assert(std::is_same_v<Dropout<0.9>::bind<Shape<500>>, Ratio>);
static_assert(std::is_same_v<Dropout<0.9>::bind<Shape<500>>, DropoutLayer<Shape<500>, 0.9>>);
static_assert(Dropout<0.9>::rate == Dropout<rate<9, 10>>::rate);
static_assert(std::is_same_v<Dropout<0.5>::bind<Shape<7>>, Dropout<rate<1, 2>>::bind<Shape<7>>>);
static_assert(std::is_same_v<Dropout<0.0>::bind<Shape<7>>, Dropout<rate<0>>::bind<Shape<7>>>);
struct Seed : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};
static_assert(std::is_same_v<Seed::layer_tuple, Portable::layer_tuple>);
#else
// Without them, a ratio is the layer's argument.
static_assert(std::is_same_v<Ratio, DropoutLayer<Shape<500>, std::ratio<9, 10>{}>>);
#endif

int main() { return 0; }
