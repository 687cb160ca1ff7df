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
# grpc++: the etcd store's client (store/etcd/) and examples/hello's inventory service.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++ protobuf)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)  # the broker on JetStream, behind broker/jetstream/
find_program(GANTRY_PROTOC protoc REQUIRED)
find_program(GANTRY_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# gantry_grpc_sources(OUT PROTO): generates PROTO's message and service code into the current
# binary folder and names the four files in OUT.
function(gantry_grpc_sources out proto)
  get_filename_component(base ${proto} NAME_WE)
  get_filename_component(dir ${proto} DIRECTORY)
  set(files ${CMAKE_CURRENT_BINARY_DIR}/${base}.pb.cc ${CMAKE_CURRENT_BINARY_DIR}/${base}.pb.h
            ${CMAKE_CURRENT_BINARY_DIR}/${base}.grpc.pb.cc ${CMAKE_CURRENT_BINARY_DIR}/${base}.grpc.pb.h)
  add_custom_command(
    OUTPUT ${files}
    COMMAND ${GANTRY_PROTOC} --proto_path=${dir} --cpp_out=${CMAKE_CURRENT_BINARY_DIR}
            --grpc_out=${CMAKE_CURRENT_BINARY_DIR} --plugin=protoc-gen-grpc=${GANTRY_GRPC_CPP_PLUGIN}
            ${proto}
    DEPENDS ${proto}
    VERBATIM)
  set(${out} ${files} PARENT_SCOPE)
endfunction()

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
