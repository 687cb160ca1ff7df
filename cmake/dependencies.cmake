# Debian packages only (scripts/setup installs them). Boost must be 1.81, never 1.74.
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS json)
find_package(absl CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)  # TLS at the gateway, behind net/tls.h
find_package(PkgConfig REQUIRED)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)  # HTTP/2, behind http/grpc_probe.h

# Asio and Beast are compiled once, in src/net/asio_impl.cc.
add_compile_definitions(
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)

# gantry_library(NAME SOURCES... DEPS ...): one CMake library per src/ folder.
function(gantry_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(gantry_${name} STATIC ${ARG_SOURCES})
  target_include_directories(gantry_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(gantry_${name} PUBLIC ${ARG_DEPS})
endfunction()

# gantry_unit_test(NAME SOURCES... DEPS ...): a GoogleTest binary registered with ctest.
function(gantry_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
