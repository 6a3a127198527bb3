# Installs what a consumer uses: the libraries as fxrates::fxrates and fxrates::server (nothing
# internal: the build options stay behind), the public headers, the CMake package with its version,
# a pkg-config file, the program, the data it serves and the licence.
include(CMakePackageConfigHelpers)

install(TARGETS fxrates fxrates_server
    EXPORT fxrates-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fxrates DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT fxrates-targets
    NAMESPACE fxrates::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fxrates)
if(TARGET fxrates_cli)
    install(TARGETS fxrates_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(FILES ${PROJECT_BINARY_DIR}/fxrates.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
    install(FILES ${PROJECT_BINARY_DIR}/completion/fxrates
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
    install(FILES ${PROJECT_BINARY_DIR}/completion/_fxrates DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/data/eurofxref-hist.csv ${PROJECT_SOURCE_DIR}/data/PROVENANCE.md
    DESTINATION ${CMAKE_INSTALL_DATADIR}/fxrates)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/fxratesConfig.cmake.in
    ${PROJECT_BINARY_DIR}/fxratesConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fxrates)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fxratesConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fxratesConfig.cmake ${PROJECT_BINARY_DIR}/fxratesConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fxrates)

# pkg-config, for builds that do not use CMake. The libraries are static by default, so their own
# dependencies are listed too.
set(FXRATES_PC_LIBS "-lfxrates")
if(NOT BUILD_SHARED_LIBS)
    string(APPEND FXRATES_PC_LIBS " -lboost_json -lboost_url -lssl -lcrypto -lz -pthread")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/fxrates.pc.in ${PROJECT_BINARY_DIR}/fxrates.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/fxrates.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/fxrates)
