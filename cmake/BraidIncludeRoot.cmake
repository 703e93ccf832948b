# Per-library include roots (docs/development.md, "Include roots").
#
# Braid's headers are spelled "layer/file.h" ("ir/ir.h", "engine/engine.h", "text/utf8.h"). A library's source
# folder cannot itself be its include root: the folder above it (compiler/, runtime/) holds every other layer
# too, so anything that linked any library could include any header. Instead each library gets a folder of its
# own in the build tree, ${PROJECT_BINARY_DIR}/include/<target>, holding only symbolic links named after what it
# exports (include/braid_ir/ir -> compiler/ir), and that folder is its PUBLIC include directory. A target sees
# the headers of the libraries it links (directly, or through PUBLIC links) and no others, so an include across
# the layering fails to compile. The links point into the source tree: editing a header needs no reconfigure.
#
#   braid_include_root(<target> <entry>=<path> ...)
#
# <entry> is the name the headers are included by: a folder ("ir", whose files are then "ir/...") or one file
# ("value.h", "codegen/helper_abi.h"); <path> is the folder or file it links to, relative to the current source
# folder. The links are made at configure time; links left over from an earlier configure are removed.
function(braid_include_root target)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "braid_include_root: no target ${target}")
  endif()
  if(NOT ARGN)
    message(FATAL_ERROR "braid_include_root(${target}): no <entry>=<path>")
  endif()
  set(root ${PROJECT_BINARY_DIR}/include/${target})
  set(wanted "")
  foreach(pair IN LISTS ARGN)
    if(NOT pair MATCHES "^([^=]+)=(.+)$")
      message(FATAL_ERROR "braid_include_root(${target}): '${pair}' is not <entry>=<path>")
    endif()
    set(entry ${CMAKE_MATCH_1})
    get_filename_component(path "${CMAKE_MATCH_2}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT EXISTS ${path})
      message(FATAL_ERROR "braid_include_root(${target}): ${path} does not exist")
    endif()
    set(link ${root}/${entry})
    get_filename_component(parent ${link} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    set(current "")
    if(IS_SYMLINK ${link})
      file(READ_SYMLINK ${link} current)
    elseif(EXISTS ${link})
      message(FATAL_ERROR "braid_include_root(${target}): ${link} exists and is not a symbolic link")
    endif()
    if(NOT current STREQUAL path)
      file(CREATE_LINK ${path} ${link} SYMBOLIC RESULT failed)
      if(failed)
        message(FATAL_ERROR "braid_include_root(${target}): cannot link ${link} -> ${path}: ${failed}")
      endif()
    endif()
    list(APPEND wanted ${link})
  endforeach()
  # A link from an earlier configure that is no longer wanted would keep its headers visible. Symbolic links are
  # not followed here (CMP0009), and file(REMOVE) on a link removes the link, never what it points to.
  file(GLOB_RECURSE present LIST_DIRECTORIES false ${root}/*)
  foreach(link IN LISTS present)
    if(IS_SYMLINK ${link} AND NOT link IN_LIST wanted)
      file(REMOVE ${link})
    endif()
  endforeach()

  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${root})
  else()
    target_include_directories(${target} PUBLIC ${root})
  endif()
endfunction()
