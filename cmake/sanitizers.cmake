# GANTRY_SANITIZE=address  -> ASan + UBSan (the debug preset)
# GANTRY_SANITIZE=thread   -> TSan
# GANTRY_SANITIZE=fuzzer   -> clang's libFuzzer coverage with ASan + UBSan (the fuzz preset)
set(GANTRY_SANITIZE "" CACHE STRING "address | thread | empty")
if(GANTRY_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(GANTRY_SANITIZE STREQUAL "thread")
  # GCC 12 under TSan: -Wtsan notes that TSan does not model atomic_thread_fence (used by Asio);
  # -Wmismatched-new-delete misreads Asio's coroutine-frame allocator, which pairs its own
  # operator new and delete.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan -Wno-mismatched-new-delete)
  add_link_options(-fsanitize=thread)
elseif(GANTRY_SANITIZE STREQUAL "fuzzer")
  # clang 14 cannot emit -fsanitize=function's checks in coroutines ("Cannot represent a
  # difference across sections"): that one check is left out.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT GANTRY_SANITIZE STREQUAL "")
  message(FATAL_ERROR "GANTRY_SANITIZE must be address, thread, fuzzer or empty")
endif()
