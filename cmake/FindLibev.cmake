# FindLibev: libev ships neither a pkg-config file nor a CMake config on Debian,
# so look for its header and library directly.
#   Libev_FOUND, Libev_INCLUDE_DIR, Libev_LIBRARY, imported target Libev::Libev
find_path(Libev_INCLUDE_DIR NAMES ev.h PATH_SUFFIXES libev)
find_library(Libev_LIBRARY NAMES ev)

if(Libev_INCLUDE_DIR AND EXISTS "${Libev_INCLUDE_DIR}/ev.h")
  file(STRINGS "${Libev_INCLUDE_DIR}/ev.h" _ev_major REGEX "^#define EV_VERSION_MAJOR")
  file(STRINGS "${Libev_INCLUDE_DIR}/ev.h" _ev_minor REGEX "^#define EV_VERSION_MINOR")
  string(REGEX REPLACE ".* ([0-9]+).*" "\\1" _ev_major "${_ev_major}")
  string(REGEX REPLACE ".* ([0-9]+).*" "\\1" _ev_minor "${_ev_minor}")
  set(Libev_VERSION "${_ev_major}.${_ev_minor}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Libev
  REQUIRED_VARS Libev_LIBRARY Libev_INCLUDE_DIR
  VERSION_VAR Libev_VERSION)

if(Libev_FOUND AND NOT TARGET Libev::Libev)
  add_library(Libev::Libev UNKNOWN IMPORTED)
  set_target_properties(Libev::Libev PROPERTIES
    IMPORTED_LOCATION "${Libev_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Libev_INCLUDE_DIR}")
endif()
mark_as_advanced(Libev_INCLUDE_DIR Libev_LIBRARY)
