# One area's include check (tests/layers/CMakeLists.txt): compiles probes with the include
# directories of aigw_<AREA>. An include of a header of each HIDDEN area must fail because the
# file is not found; a header of each VISIBLE area must be found.
string(REPLACE "," ";" visible "${VISIBLE}")
string(REPLACE "," ";" hidden "${HIDDEN}")
file(STRINGS ${INCLUDES_FILE} includes)
set(flags -std=c++20 -fsyntax-only)
foreach(dir ${includes})
  list(APPEND flags -I${dir})
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})

# The first header of an area, as a source of that layer would include it.
function(some_header area out)
  file(GLOB headers RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/${area}/*.h)
  list(SORT headers)
  list(GET headers 0 first)
  set(${out} ${first} PARENT_SCOPE)
endfunction()

set(failures "")

# Reachable: one probe for all of them, without compiling their headers.
set(probe "")
foreach(area ${visible})
  some_header(${area} header)
  string(APPEND probe "#if !__has_include(\"${header}\")\n#error \"${header} is not reachable from ${AREA}\"\n#endif\n")
endforeach()
file(WRITE ${WORK_DIR}/reachable.cc "${probe}")
execute_process(COMMAND ${CXX} ${flags} ${WORK_DIR}/reachable.cc RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  string(APPEND failures "areas ${AREA} links are not reachable:\n${err}\n")
endif()

# Refused: a real include, which must stop the compilation at a missing file.
foreach(area ${hidden})
  some_header(${area} header)
  file(WRITE ${WORK_DIR}/includes_${area}.cc "#include \"${header}\"\n")
  execute_process(COMMAND ${CXX} ${flags} ${WORK_DIR}/includes_${area}.cc RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0)
    string(APPEND failures "${AREA} may include ${header}: the ${area} layer is not below ${AREA}\n")
  elseif(NOT err MATCHES "No such file|file not found")
    string(APPEND failures "including ${header} from ${AREA} failed, but not for a missing file:\n${err}\n")
  else()
    message(STATUS "${AREA} -> ${header}: refused (not found)")
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "${failures}")
endif()
message(STATUS "${AREA}: reaches ${visible}; refuses ${hidden}")
