# Project-wide warning flags; every target gets them.
add_compile_options(-Wall -Wextra -Wno-unused-parameter)
