include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS fxrates fxrates_server fxrates_options
    EXPORT fxrates-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fxrates DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT fxrates-targets
    NAMESPACE fxrates::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/fxrates)
if(TARGET fxrates_cli)
    install(TARGETS fxrates_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
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
