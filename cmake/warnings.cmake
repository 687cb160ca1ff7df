# Every target of ours builds with these; third-party headers come in as system headers.
add_compile_options(-Wall -Wextra -Werror -Wno-unused-parameter)
# GCC 12 at -O3 reports -Wrestrict on plain `"literal" + std::string` inside libstdc++ (GCC bug
# 105329, fixed in 13): a false positive that would otherwise forbid an ordinary idiom.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  add_compile_options(-Wno-restrict)
endif()
