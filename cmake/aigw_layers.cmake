# The data plane's areas as build layers: one static library per cpp/<area>, aigw_<area>,
# linked only to the areas it uses, each of which must be declared before it (so no cycle can be
# declared). A library compiles against include roots that hold one area each, its own and those
# of the areas it links, so an include of any other area fails to compile. docs/architecture.md
# has the layer table.

set(AIGW_LAYERS "")

# aigw_layer(<area> [DEPENDS <area>...] [LIBS <target>...])
# DEPENDS: the areas this one includes (PUBLIC, so their own roots come along).
function(aigw_layer area)
  cmake_parse_arguments(PARSE_ARGV 1 L "" "" "DEPENDS;LIBS")
  if(L_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aigw_layer(${area}): unknown arguments ${L_UNPARSED_ARGUMENTS}")
  endif()

  # The include root: <build>/layers/<area>/<area> -> cpp/<area>, so "<area>/x.h" resolves
  # and no other area's directory is reachable from it.
  set(root ${CMAKE_BINARY_DIR}/layers/${area})
  file(MAKE_DIRECTORY ${root})
  set(link ${root}/${area})
  set(target ${CMAKE_CURRENT_SOURCE_DIR}/cpp/${area})
  set(current "")
  if(IS_SYMLINK ${link})
    file(READ_SYMLINK ${link} current)
  endif()
  if(NOT current STREQUAL target)
    file(REMOVE ${link})
    file(CREATE_LINK ${target} ${link} SYMBOLIC)
  endif()

  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cpp/${area}/*.cc)
  if(NOT sources)
    # An area of headers only (pipeline/: interfaces) is compiled too, one unit that includes
    # each header, so its includes are held to the same rule.
    file(GLOB headers CONFIGURE_DEPENDS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}/cpp
         ${CMAKE_CURRENT_SOURCE_DIR}/cpp/${area}/*.h)
    list(TRANSFORM headers REPLACE "(.+)" "#include \"\\1\"\n")
    list(JOIN headers "" content)
    file(CONFIGURE OUTPUT ${root}/headers.cc CONTENT "${content}" @ONLY)
    set(sources ${root}/headers.cc)
  endif()
  add_library(aigw_${area} STATIC ${sources})
  target_include_directories(aigw_${area} PUBLIC ${root})
  target_compile_options(aigw_${area} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  set_target_properties(aigw_${area} PROPERTIES CXX_VISIBILITY_PRESET hidden)

  set(closure "")
  foreach(dep ${L_DEPENDS})
    if(NOT dep IN_LIST AIGW_LAYERS)
      message(FATAL_ERROR "aigw: layer '${area}' uses '${dep}', which is not declared before it "
                          "(layers may only use the layers below them)")
    endif()
    target_link_libraries(aigw_${area} PUBLIC aigw_${dep})
    list(APPEND closure ${dep} ${AIGW_LAYER_${dep}_CLOSURE})
  endforeach()
  list(REMOVE_DUPLICATES closure)
  target_link_libraries(aigw_${area} PUBLIC ${L_LIBS})

  list(APPEND AIGW_LAYERS ${area})
  set(AIGW_LAYERS ${AIGW_LAYERS} PARENT_SCOPE)
  set(AIGW_LAYER_${area}_CLOSURE ${closure} PARENT_SCOPE)
  # The include directories the library really compiles with, for tests/layers.
  file(GENERATE OUTPUT ${root}.includes
       CONTENT "$<JOIN:$<TARGET_PROPERTY:aigw_${area},INCLUDE_DIRECTORIES>,\n>\n")
endfunction()
