# Runs at install time (cmake --install, and cpack, which installs under /usr whatever the build's prefix): the
# unit and the sample configuration name the installed paths, which only the install-time prefix gives.
# Set by the install(CODE) in CMakeLists.txt: BRAID_PACKAGING_DIR (this folder), BRAID_PACKAGING_OUT (a scratch dir).
set(prefix "${CMAKE_INSTALL_PREFIX}")
# Under /usr, the configuration goes to /etc, as GNUInstallDirs does for SYSCONFDIR.
if(prefix STREQUAL "/usr")
  set(BRAID_CONFIG_DIR "/etc/braid")
else()
  set(BRAID_CONFIG_DIR "${prefix}/etc/braid")
endif()
set(BRAID_BIN_DIR "${prefix}/bin")
set(BRAID_RULES_DIR "${prefix}/share/braid/rules")
set(BRAID_DOC_DIR "${prefix}/share/doc/braid")
configure_file("${BRAID_PACKAGING_DIR}/braid.service.in" "${BRAID_PACKAGING_OUT}/braid.service" @ONLY)
configure_file("${BRAID_PACKAGING_DIR}/braid.env.in" "${BRAID_PACKAGING_OUT}/braid.env" @ONLY)
file(INSTALL DESTINATION "${prefix}/lib/systemd/system" TYPE FILE FILES "${BRAID_PACKAGING_OUT}/braid.service")
# The sample configuration is the operator's once installed: an existing one is kept (dpkg keeps a changed conffile).
if(EXISTS "$ENV{DESTDIR}${BRAID_CONFIG_DIR}/braid.env")
  message(STATUS "Keeping: $ENV{DESTDIR}${BRAID_CONFIG_DIR}/braid.env")
else()
  file(INSTALL DESTINATION "${BRAID_CONFIG_DIR}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${BRAID_PACKAGING_OUT}/braid.env")
endif()
