# cachecar_module(<name> [SOURCES ...] [USES <module>...] [LINKS <target>...])
#
# One library per folder of src/. A module's headers are reachable only by
# the targets that link it: each module publishes an include directory of
# its own (build/modules/<name>, holding one link, <name> -> src/<name>), and
# nothing puts src/ itself on the include path. So `#include "cache/x.hpp"`
# in a module that does not USE cache fails to compile ("No such file"):
# the graph below is enforced by the build, not by review.
function(cachecar_module name)
  cmake_parse_arguments(MOD "" "" "SOURCES;USES;LINKS" ${ARGN})
  set(include_root ${CMAKE_BINARY_DIR}/modules/${name})
  file(MAKE_DIRECTORY ${include_root})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${include_root}/${name} SYMBOLIC)
  set(deps)
  foreach(used IN LISTS MOD_USES)
    list(APPEND deps cachecar_${used})
  endforeach()
  if(MOD_SOURCES)
    add_library(cachecar_${name} STATIC ${MOD_SOURCES})
    target_include_directories(cachecar_${name} PUBLIC ${include_root})
    target_compile_options(cachecar_${name} PRIVATE ${CACHECAR_WARNINGS})
    target_link_libraries(cachecar_${name} PUBLIC ${deps} ${MOD_LINKS})
  else()
    add_library(cachecar_${name} INTERFACE)  # headers only
    target_include_directories(cachecar_${name} INTERFACE ${include_root})
    target_link_libraries(cachecar_${name} INTERFACE ${deps} ${MOD_LINKS})
  endif()
endfunction()
