# CPack settings for the Debian package (included by contrib/packaging/CMakeLists.txt).
# `cpack -G DEB` in the build directory writes nftpolicy_VERSION-1_ARCH.deb:
# dependencies from dpkg-shlibdeps, maintainer scripts that turn the firewall
# on only where a site policy exists, /etc/nftpolicy/README as a conffile.
set(NFTPOLICY_PACKAGE_MAINTAINER "nftpolicy maintainers <maintainers@users.noreply.h-seed-7ed9aeb3.example>"
    CACHE STRING "Maintainer field of the Debian package and its changelog")
set(deb_release 1)
set(deb_out ${CMAKE_CURRENT_BINARY_DIR}/deb)
set(NFTPOLICY_DEB_VERSION ${PROJECT_VERSION}-${deb_release})

# The maintainer scripts are shell templates; CMake fills in the names of the
# units and tmpfiles fragments this build ships.
string(JOIN " " NFTPOLICY_DEB_UNITS ${unit_names})
string(JOIN " " NFTPOLICY_DEB_TMPFILES ${tmpfiles_names})
foreach(script postinst prerm postrm)
  configure_file(deb/${script}.in ${deb_out}/${script} @ONLY)
endforeach()
file(WRITE ${deb_out}/conffiles "${NFTPOLICY_SYSCONF_DIR}/README\n")

# Debian wants the changelog compressed without a timestamp (gzip -n).
configure_file(deb/changelog.in ${deb_out}/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9nc ${deb_out}/changelog.Debian
                OUTPUT_FILE ${deb_out}/changelog.Debian.gz COMMAND_ERROR_IS_FATAL ANY)
install(FILES ${deb_out}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES deb/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME nftpolicy)

set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGE_NAME nftpolicy)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${NFTPOLICY_PACKAGE_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "declarative nftables firewall with phased port migrations")
set(CPACK_PACKAGE_DESCRIPTION
"nftpolicy compiles one TOML site policy (address groups, services, flows
between roles) into the nftables table of each host or gateway it runs on,
and commits it in one atomic netlink transaction.

Its phased migrations keep a vendor's old and new ports open together while
an endpoint-security suite (such as Stormshield SES Evolution) is upgraded,
record who still uses the old ports, and drop exactly the legacy rules when
a gate is flipped.

The service is enabled only once a site policy exists in
/etc/nftpolicy/site.toml.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${deb_release})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS nftables)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${deb_out}/postinst ${deb_out}/prerm ${deb_out}/postrm
    ${deb_out}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
