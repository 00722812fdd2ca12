// The doctest entry point for every test executable; the tests live beside it, one file per header.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
