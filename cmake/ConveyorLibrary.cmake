# conveyor_library(<target> <export name> <output name> <sources...>): a conveyor library with
# the alias conveyor::<export name>, public headers in include/, C++20, the project's warnings,
# and (outside a Python wheel build) install rules into the conveyorTargets export set.
function(conveyor_library target export_name output_name)
  add_library(${target} ${ARGN})
  add_library(conveyor::${export_name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name} OUTPUT_NAME ${output_name}
    POSITION_INDEPENDENT_CODE ON)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  conveyor_warnings(${target})
  if(NOT SKBUILD)
    install(TARGETS ${target} EXPORT conveyorTargets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
    install(DIRECTORY include/conveyor DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()
