# Build options that apply to fxrates' own targets only. They live in an INTERFACE target linked
# PRIVATE, so warnings and sanitizers never leak into consumers of the library.
add_library(fxrates_options INTERFACE)
add_library(fxrates::options ALIAS fxrates_options)

target_compile_options(fxrates_options INTERFACE -Wall -Wextra -Wpedantic)
if(FXRATES_WARNINGS_AS_ERRORS)
    target_compile_options(fxrates_options INTERFACE -Werror)
endif()

set(FXRATES_SANITIZE "" CACHE STRING "Sanitizers for fxrates' own targets, e.g. address,undefined")
if(FXRATES_SANITIZE)
    target_compile_options(fxrates_options INTERFACE
        -fsanitize=${FXRATES_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(fxrates_options INTERFACE -fsanitize=${FXRATES_SANITIZE})
endif()

# ccache pays off most here: a TU with Beast + SSL + coroutines takes ~45 s at -O2 on 2 cores.
find_program(FXRATES_CCACHE ccache)
if(FXRATES_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${FXRATES_CCACHE}")
endif()
