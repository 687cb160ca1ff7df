# Every target of ours builds with these; third-party headers come in as system headers.
add_compile_options(-Wall -Wextra -Werror -Wno-unused-parameter)
